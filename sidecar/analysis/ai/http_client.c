/*
 * Provider HTTP exchanges with timeout, retries and error classes
 * (http_client.h).
 */

#include "http_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HTTP_MAX_BODY  (16 * 1024 * 1024)

typedef struct {
    char    *p;
    size_t   len, cap;
    int      overflow;
} sink_t;

static size_t
on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    sink_t *s = ud;
    size_t  n = size * nmemb;

    if (s->len + n + 1 > HTTP_MAX_BODY) {
        s->overflow = 1;
        return 0;
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n + 1) {
            cap *= 2;
        }
        char *p = realloc(s->p, cap);
        if (p == NULL) {
            return 0;
        }
        s->p = p;
        s->cap = cap;
    }
    memcpy(s->p + s->len, ptr, n);
    s->len += n;
    s->p[s->len] = '\0';
    return n;
}

int
vms_ai_sleep_ms(int64_t ms, const volatile int *cancel)
{
    while (ms > 0) {
        int64_t step = ms < 50 ? ms : 50;
        struct timespec ts = { (time_t) (step / 1000),
                               (long) (step % 1000) * 1000000L };
        if (cancel != NULL && *cancel) {
            return -1;
        }
        nanosleep(&ts, NULL);
        ms -= step;
    }
    return cancel != NULL && *cancel ? -1 : 0;
}

/* the error classes live with the HTTP client: programs that fetch a secret
 * (base/secret_aws.c) link this file without the providers */
static const char *err_names[VMS_AI_NERR] = {
    [VMS_AI_OK] = "ok",
    [VMS_AI_ETIMEOUT] = "timeout",
    [VMS_AI_ECONNECT] = "connect",
    [VMS_AI_ETHROTTLED] = "throttled",
    [VMS_AI_ESERVER] = "server",
    [VMS_AI_EAUTH] = "auth",
    [VMS_AI_EREQUEST] = "request",
    [VMS_AI_ERESPONSE] = "response",
    [VMS_AI_ECONFIG] = "config",
    [VMS_AI_EINTERNAL] = "internal",
    [VMS_AI_ECANCELLED] = "cancelled",
};

const char *
vms_ai_err_name(vms_ai_err_e e)
{
    return (unsigned) e < VMS_AI_NERR ? err_names[e] : "unknown";
}

int
vms_ai_err_retryable(vms_ai_err_e e)
{
    return e == VMS_AI_ETIMEOUT || e == VMS_AI_ECONNECT
           || e == VMS_AI_ETHROTTLED || e == VMS_AI_ESERVER;
}

vms_ai_err_e
vms_ai_http_client_classify_default(long status, const char *body)
{
    if (status >= 200 && status < 300) {
        return VMS_AI_OK;
    }
    if (status == 401 || status == 403) {
        return VMS_AI_EAUTH;
    }
    if (status == 429) {
        return VMS_AI_ETHROTTLED;
    }
    if (status >= 500) {
        return VMS_AI_ESERVER;
    }
    return VMS_AI_EREQUEST;
}

static int
progress_cb(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
    const volatile int *cancel = ud;
    return cancel != NULL && *cancel;
}

static vms_ai_err_e
attempt(const vms_ai_http_client_policy_t *pol,
    const vms_ai_http_client_req_t *req,
    vms_ai_http_client_classify_pt classify, vms_ai_http_client_resp_t *resp,
    char *err, size_t errlen)
{
    CURL         *h;
    CURLcode      rc;
    sink_t        s = { 0 };
    curl_mime    *mime = NULL;
    char          ebuf[CURL_ERROR_SIZE] = "";
    vms_ai_err_e  e;

    h = curl_easy_init();
    if (h == NULL) {
        snprintf(err, errlen, "%s: curl_easy_init failed", req->what);
        return VMS_AI_EINTERNAL;
    }
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long) pol->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long) pol->timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress_cb);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *) pol->cancel);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "vmsd-ai/1");
    if (req->headers != NULL) {
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, req->headers);
    }
    if (req->mime != NULL) {
        mime = req->mime(h, req->mime_data);
        if (mime == NULL) {
            curl_easy_cleanup(h);
            snprintf(err, errlen, "%s: building the form failed", req->what);
            return VMS_AI_EINTERNAL;
        }
        curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
    } else {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t) req->body_len);
    }
    if (req->method != NULL && strcmp(req->method, "POST") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    }
    if (req->sigv4 != NULL) {
        curl_easy_setopt(h, CURLOPT_AWS_SIGV4, req->sigv4);
        curl_easy_setopt(h, CURLOPT_USERPWD, req->userpwd);
    }

    rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        switch (rc) {
        case CURLE_OPERATION_TIMEDOUT:
            e = VMS_AI_ETIMEOUT;
            snprintf(err, errlen, "%s: no answer within %lld ms", req->what,
                     (long long) pol->timeout_ms);
            break;
        case CURLE_ABORTED_BY_CALLBACK:
            e = VMS_AI_ECANCELLED;
            snprintf(err, errlen, "%s: cancelled", req->what);
            break;
        case CURLE_WRITE_ERROR:
            e = VMS_AI_ERESPONSE;
            snprintf(err, errlen, "%s: answer larger than %d bytes",
                     req->what, HTTP_MAX_BODY);
            break;
        default:
            e = VMS_AI_ECONNECT;
            snprintf(err, errlen, "%s: %s", req->what,
                     ebuf[0] ? ebuf : curl_easy_strerror(rc));
            break;
        }
        free(s.p);
        curl_easy_cleanup(h);
        curl_mime_free(mime);
        return e;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_easy_cleanup(h);
    curl_mime_free(mime);
    resp->body = s.p ? s.p : strdup("");
    resp->len = s.len;
    e = classify(resp->status, resp->body);
    if (e != VMS_AI_OK) {
        char snippet[161];
        size_t n = resp->len < 160 ? resp->len : 160;
        for (size_t i = 0; i < n; i++) {
            char c = resp->body[i];
            snippet[i] = (c >= 32 && c < 127) ? c : ' ';
        }
        snippet[n] = '\0';
        snprintf(err, errlen, "%s: HTTP %ld: %s", req->what, resp->status,
                 snippet);
    }
    return e;
}

void
vms_ai_http_client_resp_free(vms_ai_http_client_resp_t *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
    r->status = 0;
}

vms_ai_err_e
vms_ai_http_client_call(const vms_ai_http_client_policy_t *pol,
    const vms_ai_http_client_req_t *req,
    vms_ai_http_client_classify_pt classify, vms_ai_http_client_resp_t *resp,
    int *attempts, char *err, size_t errlen)
{
    vms_ai_err_e  e = VMS_AI_EINTERNAL;
    int           n = 0;
    char          last[512] = "";

    if (classify == NULL) {
        classify = vms_ai_http_client_classify_default;
    }
    memset(resp, 0, sizeof(*resp));
    for (int k = 0; k <= pol->retries; k++) {
        if (k > 0) {
            int64_t d = pol->backoff_ms << (k - 1 < 20 ? k - 1 : 20);
            d += d * ((rand() % 41) - 20) / 100;       /* +-20 % jitter */
            if (vms_ai_sleep_ms(d, pol->cancel) < 0) {
                e = VMS_AI_ECANCELLED;
                snprintf(last, sizeof(last), "%s: cancelled", req->what);
                break;
            }
        }
        vms_ai_http_client_resp_free(resp);
        n++;
        e = attempt(pol, req, classify, resp, last, sizeof(last));
        if (e == VMS_AI_OK || !vms_ai_err_retryable(e)) {
            break;
        }
    }
    if (attempts != NULL) {
        *attempts = n;
    }
    if (e != VMS_AI_OK) {
        snprintf(err, errlen, "%s (%s, %d attempt%s)", last,
                 vms_ai_err_name(e), n, n == 1 ? "" : "s");
    }
    return e;
}
