/* Shared by the Kafka consumer sidecars: see svc.h. */
#include "svc.h"
#include "vms_kafka_ssl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

volatile sig_atomic_t svc_stop;
static const char *svc_name = "vms";

static void
on_signal(int sig)
{
    (void) sig;
    svc_stop = 1;
}

void
svc_init(const char *name)
{
    struct sigaction sa;
    svc_name = name;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

void
svc_now_rfc3339(char *out, size_t len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

void
svc_say(const char *fmt, ...)
{
    va_list ap;
    char when[40];
    svc_now_rfc3339(when, sizeof(when));
    flockfile(stderr);
    fprintf(stderr, "%s %s: ", when, svc_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    funlockfile(stderr);
}

/* In slices of at most 100 ms: a signal interrupts one thread's nanosleep only, and the
 * alert notifier's other threads must see svc_stop soon too. */
void
svc_sleep_ms(long ms)
{
    while (ms > 0 && !svc_stop) {
        long step = ms < 100 ? ms : 100;
        struct timespec ts = { 0, step * 1000000L };
        while (nanosleep(&ts, &ts) == -1 && errno == EINTR && !svc_stop) {
        }
        ms -= step;
    }
}

long
svc_duration_ms(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || !(v >= 0) || v > 86400 * 7) {
        return -1;
    }
    if (*end == '\0' || strcmp(end, "s") == 0) {
        return (long) (v * 1000);
    }
    if (strcmp(end, "ms") == 0) {
        return (long) v;
    }
    if (strcmp(end, "m") == 0) {
        return (long) (v * 60000);
    }
    return -1;
}

int
svc_kafka_ssl(rd_kafka_conf_t *c)
{
    char err[512];
    if (vms_kafka_ssl_apply(c, err, sizeof(err)) != 0) {
        svc_say("%s", err);
        return -1;
    }
    return 0;
}

int
svc_conf_set(rd_kafka_conf_t *c, const char *key, const char *value)
{
    char err[512];
    if (rd_kafka_conf_set(c, key, value, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
        svc_say("kafka: %s=%s: %s", key, value, err);
        return -1;
    }
    return 0;
}

void
svc_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                 void *opaque)
{
    char list[512] = "";
    size_t len = 0;
    (void) opaque;
    for (int i = 0; i < parts->cnt && len < sizeof(list) - 16; i++) {
        len += (size_t) snprintf(list + len, sizeof(list) - len, "%s%s:%d", i ? "," : "",
                                 parts->elems[i].topic, parts->elems[i].partition);
    }
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        svc_say("assigned partitions [%s]", list);
        rd_kafka_assign(rk, parts);
    } else {
        svc_say("revoked partitions [%s]", list);
        rd_kafka_assign(rk, NULL);
    }
}

rd_kafka_message_t *
svc_poll(rd_kafka_t *rk, int timeout_ms)
{
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, timeout_ms);
    if (m != NULL && m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            svc_say("kafka: %s", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
        return NULL;
    }
    return m;
}

int
svc_options(int argc, char **argv, const svc_opt_t *opts)
{
    for (int i = 1; i < argc; i += 2) {
        const svc_opt_t *o = opts;
        while (o->name != NULL && strcmp(argv[i], o->name) != 0) {
            o++;
        }
        if (o->name == NULL || i + 1 >= argc) {
            return -1;
        }
        *o->value = argv[i + 1];
    }
    return 0;
}
