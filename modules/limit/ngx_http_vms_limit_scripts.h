/*
 * The Redis scripts of vms_limit.  Each runs atomically inside Redis, so the
 * decisions of every worker of every nginx node sharing the Redis are
 * serialised there.  Time is Redis' own clock (TIME), the same for all nodes.
 * The arithmetic mirrors core/vms_gcra.c and core/vms_lease.c exactly; keep
 * them in step.  Times are integer microseconds (exact in Lua doubles).
 */

#ifndef NGX_HTTP_VMS_LIMIT_SCRIPTS_H
#define NGX_HTTP_VMS_LIMIT_SCRIPTS_H

/*
 * GCRA.  KEYS[1] rate key; ARGV[1] interval us, ARGV[2] burst; ARGV[3]
 * "1" = peek: answer whether one more request would be allowed now, store
 * nothing (the failed-auth budget is checked before it is charged).
 * Returns {allowed 0|1, remaining, retry_after_us, reset_us}.
 */
#define NGX_HTTP_VMS_LIMIT_LUA_GCRA                                           \
"local t = redis.call('TIME')\n"                                              \
"local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"                     \
"local T = tonumber(ARGV[1])\n"                                               \
"local burst = tonumber(ARGV[2])\n"                                           \
"local tat = tonumber(redis.call('GET', KEYS[1])) or now\n"                   \
"if tat < now then tat = now end\n"                                           \
"local new_tat = tat + T\n"                                                   \
"local allow_at = new_tat - burst * T\n"                                      \
"if now < allow_at then\n"                                                    \
"  return {0, 0, allow_at - now, tat - now}\n"                                \
"end\n"                                                                       \
"if ARGV[3] == '1' then\n"                                                 \
"  return {1, math.floor((now - allow_at) / T), 0, tat - now}\n"            \
"end\n"                                                                       \
"redis.call('SET', KEYS[1], string.format('%.0f', new_tat),\n"                \
"           'PX', math.ceil((new_tat - now) / 1000) + 1)\n"                   \
"return {1, math.floor((now - allow_at) / T), 0, new_tat - now}\n"

/*
 * Lease admission.  KEYS[1] the user's sorted set (member = session, score =
 * expiry us), KEYS[2] the user's hash (field max_concurrent_streams: an
 * administrator's override); ARGV[1] session, ARGV[2] ttl us, ARGV[3] limit
 * from the plan or the token claim.  A media request's admission also passes
 * KEYS[3], the session's release mark: a session released moments ago is not
 * taken again by a late request of the player that released it.
 * Returns {outcome 1 admitted|2 renewed|3 refused|4 released, active, limit,
 * retry_after_us}.
 */
#define NGX_HTTP_VMS_LIMIT_LUA_ACQUIRE                                        \
"local t = redis.call('TIME')\n"                                              \
"local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"                     \
"local ttl = tonumber(ARGV[2])\n"                                             \
"local limit = tonumber(ARGV[3])\n"                                           \
"local admin = tonumber(redis.call('HGET', KEYS[2], 'max_concurrent_streams'))\n" \
"if admin and admin >= 0 then limit = math.floor(admin) end\n"                \
"redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)\n"                      \
"if KEYS[3] and not redis.call('ZSCORE', KEYS[1], ARGV[1])\n"                 \
"   and redis.call('EXISTS', KEYS[3]) == 1 then\n"                            \
"  return {4, redis.call('ZCARD', KEYS[1]), limit, 0}\n"                      \
"end\n"                                                                       \
"local keep = math.ceil(ttl / 1000) + 1000\n"                                 \
"local outcome = 1\n"                                                         \
"if redis.call('ZSCORE', KEYS[1], ARGV[1]) then\n"                            \
"  outcome = 2\n"                                                             \
"else\n"                                                                      \
"  local n = redis.call('ZCARD', KEYS[1])\n"                                  \
"  if n >= limit then\n"                                                      \
"    local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')\n"       \
"    local wait = 0\n"                                                        \
"    if first[2] then wait = tonumber(first[2]) - now end\n"                  \
"    return {3, n, limit, wait}\n"                                            \
"  end\n"                                                                     \
"end\n"                                                                       \
"redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])\n"                           \
"if redis.call('PTTL', KEYS[1]) < keep then\n"                                \
"  redis.call('PEXPIRE', KEYS[1], keep)\n"                                    \
"end\n"                                                                       \
"return {outcome, redis.call('ZCARD', KEYS[1]), limit, 0}\n"

/*
 * Lease renewal (never admits).  KEYS[1] the user's sorted set; ARGV[1]
 * session, ARGV[2] ttl us.  Returns 1 when renewed, 0 when the session holds
 * no live lease.
 */
#define NGX_HTTP_VMS_LIMIT_LUA_RENEW                                          \
"local t = redis.call('TIME')\n"                                              \
"local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"                     \
"local ttl = tonumber(ARGV[2])\n"                                             \
"local s = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]))\n"                \
"if not s or s <= now then return 0 end\n"                                    \
"redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])\n"                           \
"local keep = math.ceil(ttl / 1000) + 1000\n"                                 \
"if redis.call('PTTL', KEYS[1]) < keep then\n"                                \
"  redis.call('PEXPIRE', KEYS[1], keep)\n"                                    \
"end\n"                                                                       \
"return 1\n"

/*
 * Lease release.  KEYS[1] the user's sorted set, KEYS[2] the session's
 * release mark; ARGV[1] session, ARGV[2] how long the mark stays (ms).
 * Returns 1 when the session held a lease, 0 otherwise.
 */
#define NGX_HTTP_VMS_LIMIT_LUA_RELEASE                                        \
"local n = redis.call('ZREM', KEYS[1], ARGV[1])\n"                            \
"if n > 0 then\n"                                                             \
"  redis.call('SET', KEYS[2], '1', 'PX', tonumber(ARGV[2]))\n"                \
"end\n"                                                                       \
"return n\n"

#endif /* NGX_HTTP_VMS_LIMIT_SCRIPTS_H */
