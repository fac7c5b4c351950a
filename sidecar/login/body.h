/*
 * vms-login's request parsing (docs/users.md): nginx-free and libpq-free, so it is unit-tested
 * (tests/unit/test_login_body.c) and fuzzed (tests/fuzz/fuzz_login_body.c).
 */
#ifndef VMS_LOGIN_BODY_H
#define VMS_LOGIN_BODY_H

#include <stddef.h>

#define LG_BODY_MAX      4096     /* a login body over this is a 413 */
#define LG_USER_MAX      64
#define LG_PASSWORD_MAX  1024

enum {
    LG_OK = 0,
    LG_NOT_JSON,        /* not a JSON object */
    LG_MISSING,         /* username or password absent, not a string, or empty */
    LG_TOO_LONG,        /* username over LG_USER_MAX or password over LG_PASSWORD_MAX bytes */
    LG_BAD_CHAR,        /* a NUL inside either string */
};

/*
 * {"username":"…","password":"…"} (other members ignored, duplicates refused).  On LG_OK user and
 * password hold NUL-terminated copies; user must hold LG_USER_MAX + 1 bytes, password
 * LG_PASSWORD_MAX + 1.  A user name that is not [A-Za-z0-9._@-]{1,64} is still LG_OK: it can never
 * exist, and answering it differently from an unknown one would only help a guesser.
 */
int lg_parse_login(const char *body, size_t len, char *user, char *password);

/* 1 when the name is [A-Za-z0-9._@-]{1,64} (the users.username CHECK) */
int lg_user_name_ok(const char *name);

/* the text of an lg_parse_login result, for the 400 message */
const char *lg_parse_error(int rc);

#endif
