/* argon2id password hashes: see pw.h. */
#include "pw.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <argon2.h>

#define PW_T       2
#define PW_M_KIB   (19 * 1024)
#define PW_P       1
#define PW_SALT    16
#define PW_HASH    32

int
lg_random(void *out, size_t n)
{
    unsigned char *p = out;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        p += got;
        n -= (size_t) got;
    }
    return 0;
}

int
lg_pw_hash(const char *password, char *out)
{
    unsigned char salt[PW_SALT];
    if (lg_random(salt, sizeof(salt)) != 0) {
        return -1;
    }
    return argon2id_hash_encoded(PW_T, PW_M_KIB, PW_P, password, strlen(password), salt, sizeof(salt),
                                 PW_HASH, out, LG_PHC_MAX) == ARGON2_OK ? 0 : -1;
}

int
lg_pw_verify(const char *phc, const char *password)
{
    return argon2id_verify(phc, password, strlen(password)) == ARGON2_OK;
}
