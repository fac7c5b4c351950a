/*
 * The nodes' playback answers made one (merge.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "merge.h"
#include "pb_time.h"

typedef struct {
    const char  *s;
    size_t       len;
} pbr_str_t;

/* A media segment of a node playlist: its tag lines (PDT, EXTINF, BYTERANGE,
 * others), its URI and the init section (#EXT-X-MAP line) in effect. */
typedef struct {
    pbr_str_t    tags;         /* from the first tag line to the URI line, excluded */
    pbr_str_t    uri;
    pbr_str_t    map;
    int          disc;         /* a discontinuity before it */
    int64_t      dur_us;       /* #EXTINF */
    int64_t      out_us;       /* where it starts on its node playlist's output timeline */
} pbr_seg_t;

typedef struct {
    size_t       part, first, count;   /* segments [first, first + count) of segs */
    int64_t      pdt_us;
} pbr_run_t;

#define PREFIX(line, lit)  ((line).len >= sizeof(lit) - 1 && memcmp((line).s, lit, sizeof(lit) - 1) == 0)

static int
fail(char *why, size_t whylen, const char *node, const char *what)
{
    snprintf(why, whylen, "node %s: playlist: %s", node, what);
    return -1;
}

/* uri, or the tail of a URI whose query began already (in_query), + node= and extra */
static void
add_uri(pb_buf_t *b, pbr_str_t uri, int in_query, const char *node, const char *extra)
{
    pb_buf_add(b, uri.s, uri.len);
    pb_buf_printf(b, "%snode=%s%s", in_query || memchr(uri.s, '?', uri.len) ? "&" : "?", node, extra);
}

/* An optionally negative decimal integer in [p, end) (the bodies are not NUL-terminated);
 * *stop after its last digit.  Saturates far below overflow. */
static long long
number(const char *p, const char *end, const char **stop)
{
    int neg = p < end && *p == '-';
    long long v = 0;
    for (p += neg; p < end && *p >= '0' && *p <= '9'; p++) {
        if (v < INT64_MAX / 100) {
            v = v * 10 + (*p - '0');
        }
    }
    *stop = p;
    return neg ? -v : v;
}

/*
 * A media URI with its output time t= moved by shift_us: the node placed the segment on its own
 * playlist's timeline (the sum of the #EXTINF before it), the merged playlist places it after the
 * segments of every node before it, and the node rebases the media to the t= it is given.
 */
static void
add_seg_uri(pb_buf_t *b, pbr_str_t uri, int64_t shift_us, const char *node, const char *extra)
{
    const char *end = uri.s + uri.len, *q = memchr(uri.s, '?', uri.len), *t = NULL;
    for (const char *p = q; p != NULL && p + 2 < end; p = memchr(p + 1, '&', (size_t) (end - p - 1))) {
        if (p[1] == 't' && p[2] == '=') {
            t = p + 3;
            break;
        }
    }
    if (t == NULL || shift_us == 0) {
        add_uri(b, uri, 0, node, extra);
        return;
    }
    const char *stop;
    long long v = number(t, end, &stop);
    pb_buf_add(b, uri.s, (size_t) (t - uri.s));
    pb_buf_printf(b, "%lld", v + (long long) shift_us);
    add_uri(b, (pbr_str_t) { stop, (size_t) (end - stop) }, 1, node, extra);
}

/* #EXT-X-MAP:URI="...",BYTERANGE=... with node= and extra added inside the URI's quotes */
static void
add_map(pb_buf_t *b, pbr_str_t map, const char *node, const char *extra)
{
    const char *u = map.s + sizeof("#EXT-X-MAP:URI=\"") - 1;
    const char *q = memchr(u, '"', (size_t) (map.s + map.len - u));   /* checked when parsed */
    pb_buf_add(b, map.s, (size_t) (u - map.s));
    add_uri(b, (pbr_str_t) { u, (size_t) (q - u) }, 0, node, extra);
    pb_buf_add(b, q, (size_t) (map.s + map.len - q));
    pb_buf_add(b, "\n", 1);
}

static int
run_cmp(const void *a, const void *b)
{
    const pbr_run_t *x = a, *y = b;
    if (x->pdt_us != y->pdt_us) {
        return x->pdt_us < y->pdt_us ? -1 : 1;
    }
    return x->part < y->part ? -1 : x->part > y->part;
}

/* Appends part's segments to *segs; raises *target. */
static int
parse_playlist(const pbr_part_t *p, pbr_seg_t **segs, size_t *nsegs, size_t *cap, long *target,
    char *why, size_t whylen)
{
    const char *at = p->body, *end = p->body + p->len;
    pbr_str_t map = { NULL, 0 }, tags = { NULL, 0 };
    int disc = 0, first = 1, ended = 0;
    int64_t out_us = 0, dur_us = -1;

    while (at < end) {
        const char *nl = memchr(at, '\n', (size_t) (end - at));
        pbr_str_t line = { at, (size_t) ((nl ? nl : end) - at) };
        at = nl ? nl + 1 : end;
        if (line.len && line.s[line.len - 1] == '\r') {
            line.len--;
        }
        if (first) {
            if (!PREFIX(line, "#EXTM3U")) {
                return fail(why, whylen, p->node, "no #EXTM3U");
            }
            first = 0;
            continue;
        }
        if (line.len == 0) {
            continue;
        }
        if (PREFIX(line, "#EXT-X-TARGETDURATION:")) {
            const char *stop;
            long long t = number(line.s + sizeof("#EXT-X-TARGETDURATION:") - 1, line.s + line.len, &stop);
            *target = t > *target && t < 86400 ? (long) t : *target;
        } else if (PREFIX(line, "#EXT-X-VERSION:") || PREFIX(line, "#EXT-X-PLAYLIST-TYPE:")
                   || PREFIX(line, "#EXT-X-MEDIA-SEQUENCE:")
                   || PREFIX(line, "#EXT-X-INDEPENDENT-SEGMENTS")) {
            continue;                                   /* the merged header says these */
        } else if (PREFIX(line, "#EXT-X-ENDLIST")) {
            ended = 1;
        } else if (PREFIX(line, "#EXT-X-DISCONTINUITY")) {
            disc = 1;
        } else if (PREFIX(line, "#EXT-X-MAP:")) {
            const char *u = line.s + sizeof("#EXT-X-MAP:URI=\"") - 1;
            if (!PREFIX(line, "#EXT-X-MAP:URI=\"") || u > line.s + line.len
                || memchr(u, '"', (size_t) (line.s + line.len - u)) == NULL) {
                return fail(why, whylen, p->node, "#EXT-X-MAP without a quoted URI first");
            }
            map = line;
        } else if (line.s[0] == '#') {
            if (PREFIX(line, "#EXTINF:")) {
                const char *d = line.s + sizeof("#EXTINF:") - 1;
                const char *comma = memchr(d, ',', (size_t) (line.s + line.len - d));
                if (comma == NULL || pb_duration_parse(d, (size_t) (comma - d), &dur_us) != 0) {
                    return fail(why, whylen, p->node, "#EXTINF without a duration");
                }
            }
            if (tags.s == NULL) {
                tags.s = line.s;
            }
            tags.len = (size_t) (line.s + line.len - tags.s);
        } else {
            if (map.s == NULL || tags.s == NULL || dur_us < 0) {
                return fail(why, whylen, p->node, "a segment without #EXT-X-MAP or #EXTINF");
            }
            if (*nsegs == *cap) {
                size_t nc = *cap ? *cap * 2 : 64;
                pbr_seg_t *v = realloc(*segs, nc * sizeof(*v));
                if (v == NULL) {
                    return fail(why, whylen, p->node, "out of memory");
                }
                *segs = v;
                *cap = nc;
            }
            (*segs)[(*nsegs)++] = (pbr_seg_t) { tags, line, map, disc, dur_us, out_us };
            out_us += dur_us;
            tags = (pbr_str_t) { NULL, 0 };
            disc = 0;
            dur_us = -1;
        }
    }
    if (!ended) {
        return fail(why, whylen, p->node, "no #EXT-X-ENDLIST (cut short?)");
    }
    return 0;
}

/* The segment's #EXT-X-PROGRAM-DATE-TIME, or -1 */
static int64_t
seg_pdt(const pbr_seg_t *s)
{
    static const char tag[] = "#EXT-X-PROGRAM-DATE-TIME:";
    const char *at = s->tags.s, *end = s->tags.s + s->tags.len;
    while (at < end) {
        const char *nl = memchr(at, '\n', (size_t) (end - at));
        size_t len = (size_t) ((nl ? nl : end) - at);
        int64_t us;
        if (len > sizeof(tag) - 1 && memcmp(at, tag, sizeof(tag) - 1) == 0
            && pb_time_parse(at + sizeof(tag) - 1, len - (sizeof(tag) - 1), &us) == 0) {
            return us;
        }
        at = nl ? nl + 1 : end;
    }
    return -1;
}

int
pbr_merge_playlists(pb_buf_t *out, const pbr_part_t *parts, size_t n, const char *extra,
    char *why, size_t whylen)
{
    pbr_seg_t *segs = NULL;
    pbr_run_t *runs = NULL;
    size_t nsegs = 0, cap = 0, nruns = 0, *first = calloc(n + 1, sizeof(size_t));
    long target = 1;
    int rc = -1;

    if (first == NULL) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        first[i] = nsegs;
        if (parse_playlist(&parts[i], &segs, &nsegs, &cap, &target, why, whylen) != 0) {
            goto done;
        }
    }
    first[n] = nsegs;
    runs = malloc((nsegs ? nsegs : 1) * sizeof(*runs));
    if (runs == NULL) {
        snprintf(why, whylen, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t k = first[i]; k < first[i + 1]; k++) {
            if (k == first[i] || segs[k].disc) {
                int64_t pdt = seg_pdt(&segs[k]);
                if (pdt < 0) {
                    fail(why, whylen, parts[i].node, "a run without #EXT-X-PROGRAM-DATE-TIME");
                    goto done;
                }
                runs[nruns++] = (pbr_run_t) { i, k, 0, pdt };
            }
            runs[nruns - 1].count++;
        }
    }
    qsort(runs, nruns, sizeof(*runs), run_cmp);
    int64_t out_us = 0;            /* the merged playlist's output timeline */

    pb_buf_printf(out, "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:%ld\n"
                  "#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-INDEPENDENT-SEGMENTS\n",
                  target);
    for (size_t r = 0; r < nruns; r++) {
        const char *node = parts[runs[r].part].node;
        pbr_str_t map = { NULL, 0 };
        if (r > 0) {
            pb_buf_add(out, "#EXT-X-DISCONTINUITY\n", 21);
        }
        for (size_t k = runs[r].first; k < runs[r].first + runs[r].count; k++) {
            const pbr_seg_t *s = &segs[k];
            if (map.s != s->map.s) {
                add_map(out, s->map, node, extra);
                map = s->map;
            }
            pb_buf_add(out, s->tags.s, s->tags.len);
            pb_buf_add(out, "\n", 1);
            add_seg_uri(out, s->uri, out_us - s->out_us, node, extra);
            pb_buf_add(out, "\n", 1);
            out_us += s->dur_us;
        }
    }
    pb_buf_add(out, "#EXT-X-ENDLIST\n", 15);
    if (out->oom) {
        snprintf(why, whylen, "out of memory");
        goto done;
    }
    rc = 0;
done:
    free(first);
    free(segs);
    free(runs);
    return rc;
}

static int
push_span(pb_span_t **v, size_t *n, int64_t s, int64_t e)
{
    if (*n == 0 || (*n >= 16 && (*n & (*n - 1)) == 0)) {    /* room: 16, then doubled */
        pb_span_t *nv = realloc(*v, (*n ? *n * 2 : 16) * sizeof(**v));
        if (nv == NULL) {
            return -1;
        }
        *v = nv;
    }
    (*v)[(*n)++] = (pb_span_t) { s, e };
    return 0;
}

static int
json_time(json_t *o, const char *key, int64_t *us)
{
    json_t *t = json_object_get(o, key);
    return json_is_string(t) ? pb_time_parse(json_string_value(t), json_string_length(t), us) : -1;
}

int
pbr_timeline_spans(const char *body, size_t len, pb_span_t **v, size_t *n, int64_t *from,
    int64_t *to)
{
    json_t *doc = json_loadb(body, len, 0, NULL), *spans = json_object_get(doc, "spans"), *s;
    size_t i;
    int rc = -1;
    if (!json_is_array(spans) || json_time(doc, "start", from) != 0 || json_time(doc, "end", to) != 0) {
        goto done;
    }
    json_array_foreach(spans, i, s) {
        int64_t a, b;
        if (json_time(s, "start", &a) != 0 || json_time(s, "end", &b) != 0 || b < a
            || push_span(v, n, a, b) != 0) {
            goto done;
        }
    }
    rc = 0;
done:
    json_decref(doc);
    return rc;
}

int
pbr_list_spans(const char *body, size_t len, pb_span_t **v, size_t *n)
{
    json_t *doc = json_loadb(body, len, 0, NULL), *s;
    size_t i;
    int rc = -1;
    if (!json_is_array(doc)) {
        goto done;
    }
    json_array_foreach(doc, i, s) {
        int64_t a;
        json_t *d = json_object_get(s, "duration");
        double sec = json_is_number(d) ? json_number_value(d) : -1;
        /* at most 10 years, as the module's durations */
        if (json_time(s, "start", &a) != 0 || !(sec >= 0 && sec <= 3.2e8)
            || push_span(v, n, a, a + llround(sec * 1e6)) != 0) {
            goto done;
        }
    }
    rc = 0;
done:
    json_decref(doc);
    return rc;
}

static int
span_cmp(const void *a, const void *b)
{
    const pb_span_t *x = a, *y = b;
    return x->start_us < y->start_us ? -1 : x->start_us > y->start_us;
}

size_t
pbr_spans_union(pb_span_t *v, size_t n, int64_t gap_us)
{
    size_t k = 0;
    if (n == 0) {
        return 0;
    }
    qsort(v, n, sizeof(*v), span_cmp);
    for (size_t i = 1; i < n; i++) {
        if (v[i].start_us - v[k].end_us <= gap_us) {
            if (v[i].end_us > v[k].end_us) {
                v[k].end_us = v[i].end_us;
            }
        } else {
            v[++k] = v[i];
        }
    }
    return k + 1;
}
