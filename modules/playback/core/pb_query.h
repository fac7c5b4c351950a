/*
 * Untrusted request input for playback: query-string arguments and the
 * names that become paths (camera ids, segment paths).  nginx-free; fuzzed
 * by tests/fuzz/fuzz_playback_query.c.
 */
#ifndef PB_QUERY_H
#define PB_QUERY_H

#include <stddef.h>
#include <stdint.h>

/* Finds name=value in a query string (without '?'), percent- and
 * '+'-decodes the value into out (NUL-terminated).  1 found, 0 absent,
 * -1 malformed (bad %XX, NUL byte, longer than outlen - 1).  Takes the
 * first match only: request handling uses pb_args_parse() instead. */
int pb_arg(const char *q, size_t qlen, const char *name, char *out, size_t outlen);

/*
 * The arguments the playback module reads.  A request's query is parsed
 * once, by pb_args_parse(), and everything that decides on the request
 * (vms_auth through $vms_playback_camera, the handlers) reads the result:
 * no second parser with other rules (nginx's $arg_x takes the first
 * match, any case) can see another value.
 */
enum {
    PB_A_PATH, PB_A_START, PB_A_END, PB_A_DURATION, PB_A_FORMAT, PB_A_GAPS,
    PB_A_S, PB_A_T, PB_A_JWT, PB_A_TOKEN, PB_A_N
};

extern const char *const pb_arg_names[PB_A_N];

typedef struct {
    const char *v[PB_A_N];    /* decoded, NUL-terminated; NULL when absent */
    size_t      len[PB_A_N];
} pb_args_t;

/* Parses a whole query string (without '?').  An argument whose name,
 * percent/'+'-decoded and ASCII case-folded, is one of pb_arg_names must be
 * written exactly so (lowercase, unencoded), appear once, and have a value
 * without bad %XX or NUL ("name" without '=' is the empty value).  Every
 * name must decode cleanly; other arguments are ignored.  Values are decoded
 * into buf (buflen >= qlen + PB_A_N).  0, or -1 with *why a fixed message
 * (no request bytes in it). */
int pb_args_parse(const char *q, size_t qlen, char *buf, size_t buflen, pb_args_t *a,
    const char **why);

/* A MediaMTX path name as MediaMTX accepts it (conf.IsValidPathName):
 * [A-Za-z0-9_./-], not starting or ending with '/'; stricter here: at most
 * 255 bytes, no empty component and no component starting with '.' (so no
 * "." / ".." traversal and no hidden directory such as .index).  1 or 0. */
int pb_path_ok(const char *s, size_t len);

/* The camera id a path name is authorized as: its last component when that
 * is a camera id ([A-Za-z0-9_-]{1,64}), the rule vms_auth applies to every
 * MediaMTX path.  Returns its length (out NUL-terminated, outlen >= 65) or 0
 * when the last component is not a camera id. */
size_t pb_path_camera(const char *path, size_t len, char *out, size_t outlen);

/* MediaMTX's CORS origin match (httpp.isOriginAllowed): allowed[] entries
 * are "*", "scheme://host[:port]" (default ports 80/443 filled in) or a
 * host pattern with a star: "http://{*}.example.com" (written here with
 * {*} for the star) also matches example.com itself.
 * Returns PB_ORIGIN_ECHO (an entry matches: answer the request's Origin),
 * PB_ORIGIN_ANY (no match but the list holds "*": answer "*", which
 * browsers never combine with credentials) or PB_ORIGIN_NONE. */
#define PB_ORIGIN_NONE 0
#define PB_ORIGIN_ECHO 1
#define PB_ORIGIN_ANY  2
int pb_origin_allowed(const char *origin, size_t olen, const char *const *allowed, size_t n);

/* A Host header fit to be copied into a URL: a host name or IPv4 address of
 * [A-Za-z0-9._~-], or an [IPv6] literal, then an optional :port.  1 or 0. */
int pb_host_ok(const char *s, size_t len);

/* JSON string body: '"' and '\\' escaped, control bytes as \u00XX.
 * Returns bytes written (out >= 6 * len + 1). */
size_t pb_json_escape(char *out, const char *s, size_t len);

/* Camera id (vms_camera_id_valid).  With nested != 0, up to 4 such
 * components joined by '/' (MediaMTX path names like "camera/cam1"). */
int pb_camera_ok(const char *s, size_t len, int nested);

/* Segment path relative to a camera directory: components of
 * [A-Za-z0-9_.-], none starting with '.', at most 159 bytes. */
int pb_media_path_ok(const char *s, size_t len);

/* A recording segment's path: pb_media_path_ok() and a name ending in
 * ".mp4" (what vmsd and MediaMTX write and vms-index indexes), so the
 * media route never serves other files of a camera directory (the live
 * snapshot latest.jpg, the index). */
int pb_segment_path_ok(const char *s, size_t len);

/* Decimal integer, optional '-', within +-9.2e18 (NUL-terminated s).  0 or -1. */
int pb_int_parse(const char *s, int64_t *out);

/* Go's url.QueryEscape: unreserved kept, ' ' -> '+', others %XX.
 * Returns bytes written (out >= 3 * len + 1). */
size_t pb_query_escape(char *out, const char *s, size_t len);

#endif /* PB_QUERY_H */
