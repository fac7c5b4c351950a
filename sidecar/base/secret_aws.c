/*
 * aws-sm:SECRET-ID[#JSON-KEY]: AWS Secrets Manager's GetSecretValue (JSON 1.1
 * API), signed with SigV4 by libcurl through the AI pipeline's HTTP client,
 * as the Rekognition provider is.  Credentials and region from the AWS_*
 * environment (each credential also as AWS_*_FILE); VMS_AWS_SM_ENDPOINT
 * overrides https://secretsmanager.REGION.amazonaws.com.  Values are cached
 * per secret id for VMS_AWS_SM_TTL seconds (default 3600; 0: no cache) or
 * until vms_secret_aws_flush().  Blocking: called while a program loads its
 * configuration, never from an event loop.
 */
#include "secret.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ai/http_client.h"

#define SM_ID_MAX      512
#define SM_TTL_DEFAULT 3600

typedef struct sm_cache_s  sm_cache_t;
struct sm_cache_s {
    char        *id;
    char        *value;           /* SecretString */
    time_t       at;              /* CLOCK_MONOTONIC seconds */
    sm_cache_t  *next;
};

static pthread_mutex_t  cache_mu = PTHREAD_MUTEX_INITIALIZER;
static sm_cache_t      *cache;
/* a credential given as AWS_*_FILE=aws-sm:... would need itself to fetch */
static __thread int     fetching;

static time_t
mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static long
ttl_s(void)
{
    const char *t = getenv("VMS_AWS_SM_TTL");
    char       *end;
    long        v;

    if (t == NULL || *t == '\0') {
        return SM_TTL_DEFAULT;
    }
    v = strtol(t, &end, 10);
    return (*end != '\0' || v < 0) ? SM_TTL_DEFAULT : v;
}

void
vms_secret_aws_flush(void)
{
    sm_cache_t *c, *next;

    pthread_mutex_lock(&cache_mu);
    for (c = cache; c != NULL; c = next) {
        next = c->next;
        free(c->id);
        vms_secret_free(c->value);
        free(c);
    }
    cache = NULL;
    pthread_mutex_unlock(&cache_mu);
}

static char *
cache_get(const char *id, long ttl)
{
    sm_cache_t *c;
    char       *v = NULL;

    pthread_mutex_lock(&cache_mu);
    for (c = cache; c != NULL; c = c->next) {
        if (strcmp(c->id, id) == 0 && mono_s() - c->at < ttl) {
            v = strdup(c->value);
            break;
        }
    }
    pthread_mutex_unlock(&cache_mu);
    return v;
}

static void
cache_put(const char *id, const char *value)
{
    sm_cache_t *c, **pp;

    pthread_mutex_lock(&cache_mu);
    for (pp = &cache; *pp != NULL; pp = &(*pp)->next) {
        if (strcmp((*pp)->id, id) == 0) {
            c = *pp;
            *pp = c->next;
            free(c->id);
            vms_secret_free(c->value);
            free(c);
            break;
        }
    }
    c = calloc(1, sizeof(*c));
    if (c != NULL) {
        c->id = strdup(id);
        c->value = strdup(value);
        c->at = mono_s();
        if (c->id == NULL || c->value == NULL) {
            free(c->id);
            vms_secret_free(c->value);
            free(c);
        } else {
            c->next = cache;
            cache = c;
        }
    }
    pthread_mutex_unlock(&cache_mu);
}

/* the AWS error: {"__type":"...#ResourceNotFoundException","Message":...} */
static void
aws_error(const char *id, long status, const char *body, char *why,
    size_t whylen)
{
    json_t      *j = json_loads(body ? body : "", 0, NULL);
    const char  *type = NULL, *msg = NULL, *hash;

    if (j != NULL) {
        type = json_string_value(json_object_get(j, "__type"));
        msg = json_string_value(json_object_get(j, "Message"));
        if (msg == NULL) {
            msg = json_string_value(json_object_get(j, "message"));
        }
    }
    if (type != NULL && (hash = strrchr(type, '#')) != NULL) {
        type = hash + 1;
    }
    snprintf(why, whylen, "aws-sm:%s: GetSecretValue answered HTTP %ld %s%s%s",
             id, status, type ? type : "(no error type)", msg ? ": " : "",
             msg ? msg : "");
    json_decref(j);
}

static char *
fetch(const char *id, char *why, size_t whylen)
{
    char                          *ak, *sk, *tok = NULL;
    const char                    *region, *ep;
    char                           err[512], url[512], sig[96];
    char                           userpwd[1100], tokhdr[2200];
    struct curl_slist             *hdrs = NULL;
    json_t                        *body, *ans;
    char                          *payload;
    char                          *value = NULL;
    vms_ai_http_client_resp_t      resp;
    vms_ai_http_client_policy_t    pol = { 5000, 2, 200, NULL };
    vms_ai_http_client_req_t       req;
    vms_ai_err_e                   e;

    region = getenv("AWS_REGION");
    if (region == NULL || *region == '\0') {
        region = getenv("AWS_DEFAULT_REGION");
    }
    if (region == NULL || *region == '\0' || strlen(region) > 31
        || strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-")
           != strlen(region))
    {
        snprintf(why, whylen, "aws-sm:%s: set AWS_REGION (e.g. us-east-1)",
                 id);
        return NULL;
    }
    ak = vms_secret_env("AWS_ACCESS_KEY_ID", err, sizeof(err));
    if (ak == NULL) {
        snprintf(why, whylen, "aws-sm:%s: %s", id, err[0] ? err
                 : "AWS_ACCESS_KEY_ID (or AWS_ACCESS_KEY_ID_FILE) not set");
        return NULL;
    }
    sk = vms_secret_env("AWS_SECRET_ACCESS_KEY", err, sizeof(err));
    if (sk == NULL) {
        snprintf(why, whylen, "aws-sm:%s: %s", id, err[0] ? err
                 : "AWS_SECRET_ACCESS_KEY (or AWS_SECRET_ACCESS_KEY_FILE)"
                   " not set");
        free(ak);
        return NULL;
    }
    tok = vms_secret_env("AWS_SESSION_TOKEN", err, sizeof(err));
    if (tok == NULL && err[0]) {
        snprintf(why, whylen, "aws-sm:%s: %s", id, err);
        goto done;
    }
    if (strchr(ak, ':') != NULL || strlen(ak) + strlen(sk) + 2 > sizeof(userpwd)
        || (tok != NULL && strlen(tok) + 32 > sizeof(tokhdr)))
    {
        snprintf(why, whylen, "aws-sm:%s: AWS credentials are malformed", id);
        goto done;
    }
    ep = getenv("VMS_AWS_SM_ENDPOINT");
    if (ep != NULL && *ep != '\0') {
        snprintf(url, sizeof(url), "%s", ep);
    } else {
        snprintf(url, sizeof(url), "https://secretsmanager.%s.amazonaws.com/",
                 region);
    }
    snprintf(sig, sizeof(sig), "aws:amz:%s:secretsmanager", region);
    snprintf(userpwd, sizeof(userpwd), "%s:%s", ak, sk);

    body = json_pack("{s:s}", "SecretId", id);
    payload = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (payload == NULL) {
        snprintf(why, whylen, "aws-sm:%s: out of memory", id);
        goto done;
    }
    hdrs = curl_slist_append(hdrs, "Content-Type: application/x-amz-json-1.1");
    hdrs = curl_slist_append(hdrs, "X-Amz-Target: secretsmanager.GetSecretValue");
    if (tok != NULL) {
        snprintf(tokhdr, sizeof(tokhdr), "X-Amz-Security-Token: %s", tok);
        hdrs = curl_slist_append(hdrs, tokhdr);
    }
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.url = url;
    req.headers = hdrs;
    req.body = payload;
    req.body_len = strlen(payload);
    req.sigv4 = sig;
    req.userpwd = userpwd;
    req.what = "Secrets Manager GetSecretValue";

    e = vms_ai_http_client_call(&pol, &req, NULL, &resp, NULL, err,
                                sizeof(err));
    curl_slist_free_all(hdrs);
    free(payload);
    explicit_bzero(userpwd, sizeof(userpwd));
    explicit_bzero(tokhdr, sizeof(tokhdr));
    if (e != VMS_AI_OK) {
        if (resp.status != 0) {
            aws_error(id, resp.status, resp.body, why, whylen);
        } else {
            snprintf(why, whylen, "aws-sm:%s: %s", id, err);
        }
        vms_ai_http_client_resp_free(&resp);
        goto done;
    }
    ans = json_loadb(resp.body, resp.len, 0, NULL);
    explicit_bzero(resp.body, resp.len);
    vms_ai_http_client_resp_free(&resp);
    if (ans == NULL) {
        snprintf(why, whylen, "aws-sm:%s: GetSecretValue answer is not JSON",
                 id);
        goto done;
    }
    if (json_string_value(json_object_get(ans, "SecretString")) == NULL) {
        snprintf(why, whylen, "aws-sm:%s: the secret has no SecretString"
                 " (binary secrets are not supported)", id);
    } else {
        value = strdup(json_string_value(json_object_get(ans, "SecretString")));
        if (value == NULL) {
            snprintf(why, whylen, "aws-sm:%s: out of memory", id);
        }
    }
    json_decref(ans);

done:
    vms_secret_free(ak);
    vms_secret_free(sk);
    vms_secret_free(tok);
    return value;
}

/* member KEY of a SecretString that is a JSON object of strings */
static char *
json_member(const char *id, const char *secret, const char *key, char *why,
    size_t whylen)
{
    json_t      *j = json_loads(secret, 0, NULL);
    const char  *v;
    char        *s = NULL;

    if (!json_is_object(j)) {
        snprintf(why, whylen, "aws-sm:%s#%s: the secret is not a JSON object",
                 id, key);
    } else if ((v = json_string_value(json_object_get(j, key))) == NULL) {
        snprintf(why, whylen, "aws-sm:%s#%s: no string member \"%s\"", id,
                 key, key);
    } else if (*v == '\0') {
        snprintf(why, whylen, "aws-sm:%s#%s: the member is empty", id, key);
    } else if ((s = strdup(v)) == NULL) {
        snprintf(why, whylen, "aws-sm:%s#%s: out of memory", id, key);
    }
    json_decref(j);
    return s;
}

char *
vms_secret_aws_get(const char *ref, char *why, size_t whylen)
{
    const char  *spec = ref + sizeof(VMS_SECRET_AWS_PREFIX) - 1;
    const char  *hash = strchr(spec, '#');
    char         id[SM_ID_MAX + 1];
    size_t       n = hash ? (size_t) (hash - spec) : strlen(spec);
    long         ttl = ttl_s();
    char        *secret, *out;

    if (n == 0 || n > SM_ID_MAX || (hash != NULL && hash[1] == '\0')) {
        snprintf(why, whylen, "\"%.64s\": expected aws-sm:SECRET-ID[#JSON-KEY]",
                 ref);
        return NULL;
    }
    memcpy(id, spec, n);
    id[n] = '\0';
    if (fetching) {
        snprintf(why, whylen, "aws-sm:%s: the AWS credentials themselves"
                 " cannot come from aws-sm:", id);
        return NULL;
    }
    secret = ttl > 0 ? cache_get(id, ttl) : NULL;
    if (secret == NULL) {
        fetching = 1;
        secret = fetch(id, why, whylen);
        fetching = 0;
        if (secret == NULL) {
            return NULL;
        }
        if (ttl > 0) {
            cache_put(id, secret);
        }
    }
    if (hash == NULL) {
        if (*secret == '\0') {
            snprintf(why, whylen, "aws-sm:%s: the secret is empty", id);
            vms_secret_free(secret);
            return NULL;
        }
        return secret;
    }
    out = json_member(id, secret, hash + 1, why, whylen);
    vms_secret_free(secret);
    return out;
}
