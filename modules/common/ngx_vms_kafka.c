/*
 * ngx_vms_kafka: librdkafka producer driven from an nginx worker.  Contract in the header.
 *
 * librdkafka runs its own threads; it is created only in init_process (after fork, as STYLE asks).
 * Delivery reports and librdkafka's log lines are served by rd_kafka_poll(rk, 0) from a timer on
 * the worker's event loop, so the fallback-file writes in the report callback happen on the worker
 * thread, like access_log writes: a short O_APPEND write to a local file.
 */
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <librdkafka/rdkafka.h>

#include "ngx_vms_kafka.h"

#define NGX_VMS_KAFKA_POLL_MS   100
#define NGX_VMS_KAFKA_FLUSH_MS  2000

struct ngx_vms_kafka_s {
    ngx_str_t              brokers;      /* may be empty: file only */
    ngx_array_t           *props;
    ngx_str_t              fallback;     /* may be empty */
    /* per worker */
    rd_kafka_t            *rk;
    ngx_fd_t               fd;
    ngx_log_t             *log;
    ngx_event_t            poll_ev;
};

ngx_vms_kafka_t *
ngx_vms_kafka_create(ngx_conf_t *cf, ngx_str_t *brokers, ngx_array_t *props, ngx_str_t *fallback)
{
    ngx_vms_kafka_t *k = ngx_pcalloc(cf->pool, sizeof(ngx_vms_kafka_t));
    if (k == NULL) {
        return NULL;
    }
    if (brokers) {
        k->brokers = *brokers;
    }
    k->props = props;
    if (fallback) {
        k->fallback = *fallback;
    }
    k->fd = NGX_INVALID_FILE;
    return k;
}

void
ngx_vms_kafka_set_fallback(ngx_vms_kafka_t *k, ngx_str_t *path)
{
    k->fallback = *path;
}

/* NGX_OK, or NGX_ERROR when the line could not be written (logged). */
static ngx_int_t
ngx_vms_kafka_to_file(ngx_vms_kafka_t *k, const void *value, size_t vlen)
{
    ngx_int_t rc = NGX_OK;

    if (k->fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, k->log, 0, "vms kafka: message lost: no broker and no fallback file");
        return NGX_ERROR;
    }
    /* One write per line so concurrent workers' lines never interleave (O_APPEND). */
    u_char  stackbuf[4096];
    u_char *buf = vlen + 1 <= sizeof(stackbuf) ? stackbuf : ngx_alloc(vlen + 1, k->log);
    if (buf == NULL) {
        return NGX_ERROR;
    }
    ngx_memcpy(buf, value, vlen);
    buf[vlen] = '\n';
    ssize_t n = write(k->fd, buf, vlen + 1);
    if (n != (ssize_t) (vlen + 1)) {
        rc = NGX_ERROR;
        ngx_log_error(NGX_LOG_ERR, k->log, ngx_errno, "vms kafka: write to \"%V\" failed", &k->fallback);
    }
    if (buf != stackbuf) {
        ngx_free(buf);
    }
    return rc;
}

static void
ngx_vms_kafka_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    ngx_vms_kafka_t *k = opaque;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        return;
    }
    ngx_log_error(NGX_LOG_WARN, k->log, 0, "vms kafka: delivery to %s failed (%s); kept in \"%V\"",
                  rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err), &k->fallback);
    (void) ngx_vms_kafka_to_file(k, m->payload, m->len);
}

static void
ngx_vms_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    ngx_vms_kafka_t *k = rd_kafka_opaque(rk);
    ngx_uint_t lvl = level <= 3 ? NGX_LOG_ERR : NGX_LOG_INFO;
    ngx_log_error(lvl, k->log, 0, "vms kafka: %s: %s", fac, buf);
}

static void
ngx_vms_kafka_poll(ngx_event_t *ev)
{
    ngx_vms_kafka_t *k = ev->data;
    if (k->rk) {
        rd_kafka_poll(k->rk, 0);
    }
    if (!ngx_exiting) {
        ngx_add_timer(ev, NGX_VMS_KAFKA_POLL_MS);
    }
}

ngx_int_t
ngx_vms_kafka_init_process(ngx_vms_kafka_t *k, ngx_cycle_t *cycle)
{
    char errstr[512];

    k->log = cycle->log;
    if (k->fallback.len) {
        u_char *path = ngx_pnalloc(cycle->pool, k->fallback.len + 1);
        if (path == NULL) {
            return NGX_ERROR;
        }
        ngx_cpystrn(path, k->fallback.data, k->fallback.len + 1);
        k->fd = open((char *) path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (k->fd == NGX_INVALID_FILE) {
            ngx_log_error(NGX_LOG_ERR, cycle->log, ngx_errno, "vms kafka: cannot open \"%V\"", &k->fallback);
        }
    }
    if (k->brokers.len == 0) {
        return NGX_OK;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char *brokers = ngx_pnalloc(cycle->pool, k->brokers.len + 1);
    if (brokers == NULL) {
        rd_kafka_conf_destroy(conf);
        return NGX_ERROR;
    }
    ngx_cpystrn((u_char *) brokers, k->brokers.data, k->brokers.len + 1);
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK
        || rd_kafka_conf_set(conf, "queue.buffering.max.ms", "20", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK
        || rd_kafka_conf_set(conf, "message.timeout.ms", "30000", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK
        || rd_kafka_conf_set(conf, "log.queue", "true", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        goto fail;
    }
    for (ngx_uint_t i = 0; k->props && i < k->props->nelts; i++) {
        ngx_str_t *p = &((ngx_str_t *) k->props->elts)[i];
        u_char *eq = ngx_strlchr(p->data, p->data + p->len, '=');
        char name[128], value[512];
        if (eq == NULL || (size_t) (eq - p->data) >= sizeof(name)
            || (size_t) (p->data + p->len - eq - 1) >= sizeof(value)) {
            ngx_snprintf((u_char *) errstr, sizeof(errstr), "bad property \"%V\"%Z", p);
            goto fail;
        }
        ngx_cpystrn((u_char *) name, p->data, eq - p->data + 1);
        ngx_cpystrn((u_char *) value, eq + 1, p->data + p->len - eq);
        if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
            goto fail;
        }
    }
    rd_kafka_conf_set_opaque(conf, k);
    rd_kafka_conf_set_dr_msg_cb(conf, ngx_vms_kafka_dr);
    rd_kafka_conf_set_log_cb(conf, ngx_vms_kafka_log_cb);
    k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (k->rk == NULL) {
        ngx_log_error(NGX_LOG_ERR, cycle->log, 0, "vms kafka: producer not created: %s", errstr);
        return NGX_OK;   /* messages go to the fallback file */
    }
    /* librdkafka's log lines go to the main queue and are written by rd_kafka_poll() on the
     * worker thread, not from librdkafka's own threads */
    rd_kafka_set_log_queue(k->rk, NULL);
    k->poll_ev.handler = ngx_vms_kafka_poll;
    k->poll_ev.data = k;
    k->poll_ev.log = cycle->log;
    k->poll_ev.cancelable = 1;
    ngx_add_timer(&k->poll_ev, NGX_VMS_KAFKA_POLL_MS);
    return NGX_OK;
fail:
    rd_kafka_conf_destroy(conf);
    ngx_log_error(NGX_LOG_ERR, cycle->log, 0, "vms kafka: configuration: %s", errstr);
    return NGX_OK;
}

void
ngx_vms_kafka_exit_process(ngx_vms_kafka_t *k)
{
    if (k->rk) {
        if (rd_kafka_flush(k->rk, NGX_VMS_KAFKA_FLUSH_MS) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
            rd_kafka_poll(k->rk, 0);   /* delivery reports of purged messages -> file */
        }
        rd_kafka_destroy(k->rk);
        k->rk = NULL;
    }
    if (k->poll_ev.timer_set) {
        ngx_del_timer(&k->poll_ev);
    }
    if (k->fd != NGX_INVALID_FILE) {
        close(k->fd);
        k->fd = NGX_INVALID_FILE;
    }
}

ngx_int_t
ngx_vms_kafka_produce(ngx_vms_kafka_t *k, const char *topic, const void *key, size_t klen,
    const void *value, size_t vlen)
{
    if (k->rk) {
        rd_kafka_resp_err_t err = rd_kafka_producev(k->rk, RD_KAFKA_V_TOPIC(topic),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY((void *) key, klen),
            RD_KAFKA_V_VALUE((void *) value, vlen), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            return NGX_OK;
        }
        ngx_log_error(NGX_LOG_WARN, k->log, 0, "vms kafka: produce to %s refused (%s); kept in \"%V\"",
                      topic, rd_kafka_err2str(err), &k->fallback);
    }
    return ngx_vms_kafka_to_file(k, value, vlen);
}
