/* vms-login's parts (docs/users.md): main.c (options, HTTP, metrics), auth.c (the endpoints). */
#ifndef VMS_LOGIN_H
#define VMS_LOGIN_H

#include <stddef.h>

#include <jansson.h>
#include <microhttpd.h>

#include "body.h"

typedef struct {
    const char *listen, *redis, *issuer, *audience, *kid;
    char       *dsn, *key;
    size_t      key_len;
    long        token_ttl, refresh_ttl, leeway, max_failures, failure_window;
    int         cookie_secure;
    long        threads;
} lg_conf_t;

extern lg_conf_t lg_conf;

typedef struct {
    unsigned    status;
    char       *body;           /* malloc'd */
    size_t      len;
    const char *type;
    long        retry_after;
    char        cookie[256];    /* Set-Cookie, when set */
} lg_reply_t;

typedef struct {
    struct MHD_Connection *c;
    const char *body;
    size_t      len;
} lg_req_t;

enum { LG_O_OK, LG_O_INVALID, LG_O_LOCKED, LG_O_ERROR, LG_OUTCOMES };

void lg_count(int refresh, int outcome);
void lg_observe_hash(double seconds);
void lg_reply_json(lg_reply_t *r, unsigned status, json_t *doc);
void lg_reply_error(lg_reply_t *r, unsigned status, const char *code, const char *msg);
void lg_cookie(lg_reply_t *r, const char *value, long max_age);
char *lg_read_secret(const char *what, const char *path, size_t *len);

/* auth.c: the dummy hash and the verification keyset; 0 or -1 (logged) */
int  lg_setup(void);
void lg_login(lg_req_t *q, lg_reply_t *r);
void lg_refresh(lg_req_t *q, lg_reply_t *r);
void lg_logout(lg_req_t *q, lg_reply_t *r);

#endif
