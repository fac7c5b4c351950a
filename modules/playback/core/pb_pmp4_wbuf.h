/* Growable output buffer and box helpers of the pb_pmp4 writers (internal). */
#ifndef PB_PMP4_WBUF_H
#define PB_PMP4_WBUF_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vms_bytes.h"

typedef struct {
    unsigned char *p;
    size_t         len, cap;
    int            oom;
} wbuf_t;

static inline int
fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static inline void
put(wbuf_t *b, const void *s, size_t len)
{
    if (b->oom) {
        return;
    }
    if (b->cap - b->len < len) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->len < len) {
            cap *= 2;
        }
        unsigned char *p = realloc(b->p, cap);
        if (p == NULL) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, len);
    b->len += len;
}

static inline void
put16(wbuf_t *b, uint16_t v)
{
    unsigned char x[2] = { (unsigned char) (v >> 8), (unsigned char) v };
    put(b, x, 2);
}

static inline void
put32(wbuf_t *b, uint32_t v)
{
    unsigned char x[4] = { (unsigned char) (v >> 24), (unsigned char) (v >> 16),
                           (unsigned char) (v >> 8), (unsigned char) v };
    put(b, x, 4);
}

static inline void
put64(wbuf_t *b, uint64_t v)
{
    put32(b, (uint32_t) (v >> 32));
    put32(b, (uint32_t) v);
}

static inline void
patch32(wbuf_t *b, size_t at, uint32_t v)
{
    if (!b->oom) {
        vms_put_be32(b->p + at, v);
    }
}

static inline size_t
box_start(wbuf_t *b, const char *type)
{
    size_t at = b->len;
    put32(b, 0);
    put(b, type, 4);
    return at;
}

static inline void
box_end(wbuf_t *b, size_t at)
{
    patch32(b, at, (uint32_t) (b->len - at));
}

static inline void
full_box(wbuf_t *b, uint8_t version, uint32_t flags)
{
    put32(b, (uint32_t) version << 24 | (flags & 0xffffff));
}

/* Copies the box at [at, at+size) of the init image as it is. */
static inline void
copy_box(wbuf_t *b, const unsigned char *init, size_t at, size_t end)
{
    put(b, init + at, end - at);
}

#endif /* PB_PMP4_WBUF_H */
