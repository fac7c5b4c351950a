/*
 * A table of configuration keys and its one parser.  Each key says where its
 * value goes (offset and size of a field, its C type checked at compile
 * time), its type, range, default (as it would be written in the config
 * file) and, when the type's own words do not fit, the error message.
 * vmsd's [vmsd] and [camera ID] keys (config.c) and the analysis keys
 * (analysis/ai/conf.c) are such tables.
 */

#ifndef VMS_CONFKEY_H
#define VMS_CONFKEY_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    VMS_CK_INT,        /* int or int64_t (by size) in [min, max] */
    VMS_CK_DOUBLE,     /* double in [min, max] */
    VMS_CK_BOOL,       /* int: yes/no, on/off, true/false, 1/0 */
    VMS_CK_DURATION,   /* int64_t ms, "15s": >= min, <= max unless max is 0 */
    VMS_CK_SIZE,       /* int64_t bytes, "512MB": >= min */
    VMS_CK_STRING,     /* char *, malloc'd (freed by the table's owner),
                          not empty */
    VMS_CK_CHARS,      /* char[size], shorter than size */
    VMS_CK_FUNC,       /* parse() writes the field (or fields) itself */
} vms_confkey_type_e;

typedef struct vms_confkey_s  vms_confkey_t;

struct vms_confkey_s {
    const char          *name;
    vms_confkey_type_e   type;
    size_t               off, size;   /* the field in the table's struct */
    double               min, max;
    const char          *def;         /* default; NULL: zero, or set by the
                                         table's owner */
    const char          *expect;      /* the error for a bad value; NULL:
                                         the type's own */
    int                  quote;       /* errors end with `, got "VALUE"` */
    /* VMS_CK_FUNC: 0, or -1 with why; base is the table's struct */
    int                (*parse)(const vms_confkey_t *k, void *base,
                                const char *value, char *why, size_t whylen);
};

/* off, size of field f of struct S, which must be of type T (for char
 * arrays T is char *) */
#define VMS_CK_AT(S, f, T)                                                   \
    _Generic(((S *) 0)->f, T: offsetof(S, f)), sizeof(((S *) 0)->f)
/* the same for VMS_CK_INT: int or int64_t */
#define VMS_CK_INT_AT(S, f)                                                  \
    _Generic(((S *) 0)->f, int: offsetof(S, f), int64_t: offsetof(S, f)),    \
    sizeof(((S *) 0)->f)
/* VMS_CK_FUNC: any type, parse() knows it */
#define VMS_CK_ANY_AT(S, f)  offsetof(S, f), sizeof(((S *) 0)->f)

/* Index of the key called name, or -1. */
int vms_confkey_find(const vms_confkey_t *keys, size_t n, const char *name);

/* Parses value into base + k->off.  0, or -1 with why (the value is quoted
 * only when k->quote says so: secrets are never). */
int vms_confkey_set(const vms_confkey_t *k, void *base, const char *value,
    char *why, size_t whylen);

/* Sets every key that has a default; a default that does not parse is a
 * bug (abort). */
void vms_confkey_defaults(const vms_confkey_t *keys, size_t n, void *base);

#endif /* VMS_CONFKEY_H */
