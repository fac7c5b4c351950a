/* Credential redaction of log text; contract in vms_redact.h. */

#include "vms_redact.h"

#include <string.h>


static const char *const  vms_redact_names[] = {
    "jwt", "token", "access_token", "id_token", "refresh_token", "sig",
    "signature", "password", "secret", "api_key", "vms_session", NULL
};


static int
vms_redact_b64url(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_';
}


static unsigned char
vms_redact_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char) (c | 0x20) : c;
}


/* an argument value ends at one of these (or at the end) */
static int
vms_redact_value_end(unsigned char c)
{
    return c == '&' || c == ' ' || c == '"' || c == '\'' || c == ',' || c == ';'
           || c == '#' || c == '\r' || c == '\n' || c == '\t' || c == '\0';
}


/* length of "NAME=" at p when NAME is a credential argument, else 0 */
static size_t
vms_redact_arg_name(const unsigned char *p, size_t n)
{
    size_t  i, len;

    for (i = 0; vms_redact_names[i]; i++) {
        len = strlen(vms_redact_names[i]);
        if (len + 1 <= n && p[len] == '=') {
            size_t  k;

            for (k = 0; k < len; k++) {
                if (vms_redact_lower(p[k]) != (unsigned char) vms_redact_names[i][k]) {
                    break;
                }
            }
            if (k == len) {
                return len + 1;
            }
        }
    }

    return 0;
}


/* length of a JWT-shaped run at p ("eyJ" then base64url and dots, one dot at
 * least), else 0 */
static size_t
vms_redact_jwt(const unsigned char *p, size_t n)
{
    size_t  i, dots;

    if (n < 4 || p[0] != 'e' || p[1] != 'y' || p[2] != 'J') {
        return 0;
    }

    dots = 0;
    for (i = 3; i < n && (vms_redact_b64url(p[i]) || p[i] == '.'); i++) {
        dots += p[i] == '.';
    }

    return dots ? i : 0;
}


/* length of "Bearer " / "Basic " (any case) at p, else 0 */
static size_t
vms_redact_scheme(const unsigned char *p, size_t n)
{
    static const char *const  schemes[] = { "bearer ", "basic ", NULL };
    size_t                    i, k, len;

    for (i = 0; schemes[i]; i++) {
        len = strlen(schemes[i]);
        if (len > n) {
            continue;
        }
        for (k = 0; k < len; k++) {
            if (vms_redact_lower(p[k]) != (unsigned char) schemes[i][k]) {
                break;
            }
        }
        if (k == len) {
            return len;
        }
    }

    return 0;
}


/* writes the mask of a value of `vlen` bytes at w; returns bytes written */
static size_t
vms_redact_mask(unsigned char *w, size_t vlen)
{
    size_t  m = vlen < 3 ? vlen : 3;

    memset(w, '*', m);
    return m;
}


size_t
vms_redact(unsigned char *buf, size_t len)
{
    size_t  r, w, k, v;

    r = 0;
    w = 0;

    while (r < len) {

        /* NAME=VALUE right after '?', '&' or ';' */
        if (r > 0 && (buf[r - 1] == '?' || buf[r - 1] == '&' || buf[r - 1] == ';')
            && (k = vms_redact_arg_name(buf + r, len - r)) != 0)
        {
            memmove(buf + w, buf + r, k);
            w += k;
            r += k;
            for (v = r; v < len && !vms_redact_value_end(buf[v]); v++) {
                /* the value */
            }
            w += vms_redact_mask(buf + w, v - r);
            r = v;
            continue;
        }

        if ((k = vms_redact_jwt(buf + r, len - r)) != 0) {
            w += vms_redact_mask(buf + w, k);
            r += k;
            continue;
        }

        if ((r == 0 || !vms_redact_b64url(buf[r - 1]))
            && (k = vms_redact_scheme(buf + r, len - r)) != 0)
        {
            memmove(buf + w, buf + r, k);
            w += k;
            r += k;
            for (v = r; v < len && buf[v] != '"' && buf[v] != ' ' && buf[v] != ','
                        && buf[v] != '\r' && buf[v] != '\n'; v++)
            {
                /* the credentials */
            }
            w += vms_redact_mask(buf + w, v - r);
            r = v;
            continue;
        }

        buf[w++] = buf[r++];
    }

    return w;
}
