/*
 * One HTTP exchange with a provider, with the provider policy around it:
 * per-attempt timeout, retries of the retryable classes with exponential
 * backoff and jitter, classification of failures (provider.h error classes).
 * Blocking: called only from an analysis thread.
 */

#ifndef VMS_AI_HTTP_CLIENT_H
#define VMS_AI_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>

#include "provider.h"

typedef struct {
    int64_t             timeout_ms;
    int                 retries;
    int64_t             backoff_ms;
    const volatile int *cancel;
} vms_ai_http_client_policy_t;

typedef struct {
    const char          *method;       /* "POST", "PUT" */
    const char          *url;
    struct curl_slist   *headers;
    const void          *body;         /* NULL with mime */
    size_t               body_len;
    curl_mime          *(*mime)(CURL *h, void *data);   /* built per attempt */
    void                *mime_data;
    const char          *sigv4;        /* "aws:amz:REGION:SERVICE" or NULL */
    const char          *userpwd;      /* "KEY:SECRET" for sigv4 */
    const char          *what;         /* "Rekognition DetectLabels" (errors) */
} vms_ai_http_client_req_t;

typedef struct {
    long     status;
    char    *body;                     /* NUL-terminated, malloc'd */
    size_t   len;
} vms_ai_http_client_resp_t;

/* Maps a completed HTTP answer to an error class (provider-specific bodies,
 * e.g. Rekognition's ThrottlingException with status 400). */
typedef vms_ai_err_e (*vms_ai_http_client_classify_pt)(long status,
    const char *body);

vms_ai_err_e vms_ai_http_client_classify_default(long status, const char *body);

/* attempts (may be NULL) receives how many requests were sent. */
vms_ai_err_e vms_ai_http_client_call(const vms_ai_http_client_policy_t *pol,
    const vms_ai_http_client_req_t *req,
    vms_ai_http_client_classify_pt classify,
    vms_ai_http_client_resp_t *resp, int *attempts, char *err, size_t errlen);

void vms_ai_http_client_resp_free(vms_ai_http_client_resp_t *r);

/* Sleeps ms in small steps; returns -1 when cancelled. */
int vms_ai_sleep_ms(int64_t ms, const volatile int *cancel);

#endif /* VMS_AI_HTTP_CLIENT_H */
