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
 * administrator's override), KEYS[3] the session's release mark or "" (a
 * media request: a session released moments ago is not taken again by a late
 * request of the player that released it), KEYS[4] the opener's handover key
 * or "" (core/vms_lease.h, vms_lease_acquire_handover: one RTSP reader, two
 * session ids, one lease), KEYS[5] the media server reader's key or "" (maps
 * the reader id to KEYS[1] for renewal and release by reader id);
 * ARGV[1] session, ARGV[2] ttl us, ARGV[3] limit from the plan or the token
 * claim, ARGV[4] handover window ms.
 * Returns {outcome 1 admitted|2 renewed|3 refused|4 released, active, limit,
 * retry_after_us, session handed over from or ""}.
 */
#define NGX_HTTP_VMS_LIMIT_LUA_ACQUIRE                                        \
"local t = redis.call('TIME')\n"                                              \
"local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"                     \
"local ttl = tonumber(ARGV[2])\n"                                             \
"local limit = tonumber(ARGV[3])\n"                                           \
"local admin = tonumber(redis.call('HGET', KEYS[2], 'max_concurrent_streams'))\n" \
"if admin and admin >= 0 then limit = math.floor(admin) end\n"                \
"redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)\n"                      \
"local held = redis.call('ZSCORE', KEYS[1], ARGV[1])\n"                       \
"if KEYS[3] ~= '' and not held and redis.call('EXISTS', KEYS[3]) == 1 then\n" \
"  return {4, redis.call('ZCARD', KEYS[1]), limit, 0, ''}\n"                  \
"end\n"                                                                       \
"local keep = math.ceil(ttl / 1000) + 1000\n"                                 \
"local outcome = 1\n"                                                         \
"local from = ''\n"                                                           \
"if held then\n"                                                              \
"  outcome = 2\n"                                                             \
"else\n"                                                                      \
"  if KEYS[4] ~= '' then\n"                                                   \
"    local y = redis.call('GET', KEYS[4])\n"                                  \
"    if y and y ~= ARGV[1] and redis.call('ZSCORE', KEYS[1], y) then\n"       \
"      redis.call('ZREM', KEYS[1], y)\n"                                      \
"      redis.call('DEL', KEYS[4])\n"                                          \
"      outcome = 2\n"                                                         \
"      from = y\n"                                                            \
"    end\n"                                                                   \
"  end\n"                                                                     \
"  local n = redis.call('ZCARD', KEYS[1])\n"                                  \
"  if outcome == 1 and n >= limit then\n"                                     \
"    local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')\n"       \
"    local wait = 0\n"                                                        \
"    if first[2] then wait = tonumber(first[2]) - now end\n"                  \
"    return {3, n, limit, wait, ''}\n"                                        \
"  end\n"                                                                     \
"end\n"                                                                       \
"redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])\n"                           \
"if redis.call('PTTL', KEYS[1]) < keep then\n"                                \
"  redis.call('PEXPIRE', KEYS[1], keep)\n"                                    \
"end\n"                                                                       \
"if outcome == 1 and KEYS[4] ~= '' then\n"                                    \
"  redis.call('SET', KEYS[4], ARGV[1], 'PX', tonumber(ARGV[4]))\n"            \
"end\n"                                                                       \
"if KEYS[5] ~= '' then\n"                                                     \
"  redis.call('SET', KEYS[5], KEYS[1], 'PX', keep)\n"                         \
"end\n"                                                                       \
"return {outcome, redis.call('ZCARD', KEYS[1]), limit, 0, from}\n"

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

/*
 * A media server's reader, by its id (MediaMTX's runOnRead/runOnUnread hooks
 * know the reader id, not its user).  KEYS[1] the reader's key, set by the
 * admission (it holds the user's lease set key: a key named inside the
 * script, so vms_limit's Redis is one server, not a cluster); ARGV[1] the
 * reader id (the lease's session), ARGV[2] "renew" or "release", ARGV[3] ttl
 * us.  Returns {1 renewed|released, 0 no live lease; the lease set key or ""}.
 */
#define NGX_HTTP_VMS_LIMIT_LUA_READER                                         \
"local set = redis.call('GET', KEYS[1])\n"                                    \
"if not set then return {0, ''} end\n"                                        \
"local t = redis.call('TIME')\n"                                              \
"local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"                     \
"local s = tonumber(redis.call('ZSCORE', set, ARGV[1]))\n"                    \
"if ARGV[2] == 'release' then\n"                                              \
"  redis.call('DEL', KEYS[1])\n"                                              \
"  redis.call('ZREM', set, ARGV[1])\n"                                        \
"  if s and s > now then return {1, set} end\n"                               \
"  return {0, set}\n"                                                         \
"end\n"                                                                       \
"if not s or s <= now then return {0, set} end\n"                             \
"local ttl = tonumber(ARGV[3])\n"                                             \
"local keep = math.ceil(ttl / 1000) + 1000\n"                                 \
"redis.call('ZADD', set, now + ttl, ARGV[1])\n"                               \
"if redis.call('PTTL', set) < keep then redis.call('PEXPIRE', set, keep) end\n" \
"redis.call('PEXPIRE', KEYS[1], keep)\n"                                      \
"return {1, set}\n"

#endif /* NGX_HTTP_VMS_LIMIT_SCRIPTS_H */
