/* vms-login's request parsing: see body.h. */
#include "body.h"

#include <string.h>

#include <jansson.h>

int
lg_user_name_ok(const char *name)
{
    size_t n = 0;
    for (const char *p = name; *p; p++, n++) {
        char c = *p;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
              || c == '.' || c == '_' || c == '@' || c == '-')) {
            return 0;
        }
    }
    return n >= 1 && n <= LG_USER_MAX;
}

static int
member(json_t *doc, const char *key, char *out, size_t max)
{
    json_t *v = json_object_get(doc, key);
    if (!json_is_string(v) || json_string_length(v) == 0) {
        return LG_MISSING;
    }
    size_t n = json_string_length(v);
    if (n > max) {
        return LG_TOO_LONG;
    }
    const char *s = json_string_value(v);
    if (memchr(s, '\0', n) != NULL) {
        return LG_BAD_CHAR;
    }
    memcpy(out, s, n);
    out[n] = '\0';
    return LG_OK;
}

int
lg_parse_login(const char *body, size_t len, char *user, char *password)
{
    user[0] = password[0] = '\0';
    if (body == NULL || len == 0 || len > LG_BODY_MAX) {
        return LG_NOT_JSON;
    }
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return LG_NOT_JSON;
    }
    int rc = member(doc, "username", user, LG_USER_MAX);
    if (rc == LG_OK) {
        rc = member(doc, "password", password, LG_PASSWORD_MAX);
    }
    json_decref(doc);
    if (rc != LG_OK) {
        user[0] = password[0] = '\0';
    }
    return rc;
}

const char *
lg_parse_error(int rc)
{
    switch (rc) {
    case LG_OK:       return "ok";
    case LG_NOT_JSON: return "the body is not a JSON object";
    case LG_MISSING:  return "username and password: non-empty strings required";
    case LG_TOO_LONG: return "username: at most 64 bytes; password: at most 1024 bytes";
    default:          return "username and password: no NUL characters";
    }
}
