/*
 * Password hashes of vms-login and vms-user: argon2id (Debian's libargon2), OWASP's parameters
 * m = 19 MiB, t = 2, p = 1, a 16-byte random salt, a 32-byte hash, stored as the PHC string.
 */
#ifndef VMS_LOGIN_PW_H
#define VMS_LOGIN_PW_H

#include <stddef.h>

#define LG_PHC_MAX  160

/* fills n random bytes (getrandom); 0 or -1 */
int lg_random(void *out, size_t n);
/* the PHC string of password in out (LG_PHC_MAX bytes); 0 or -1 */
int lg_pw_hash(const char *password, char *out);
/* 1 when password matches the PHC string (constant time inside argon2), else 0 */
int lg_pw_verify(const char *phc, const char *password);

#endif
