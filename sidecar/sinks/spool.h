/*
 * Bounded on-disk spool of Kafka messages that librdkafka could not take or
 * could not deliver.  One append-only file plus a committed-offset file:
 *
 *   {dir}/events.spool    records: u32 magic, u32 length, u32 crc32,
 *                         u16 topic length, u16 key length, topic, key, value
 *   {dir}/events.offset   bytes of events.spool already delivered
 *
 * Append fsyncs the file before returning, so a spooled message survives a
 * crash.  Commit writes the offset atomically (rename); when everything is
 * delivered both files are reset.  A torn record at the end (crash during
 * append) is cut off at open.  Thread-safe.
 */

#ifndef VMS_SPOOL_H
#define VMS_SPOOL_H

#include <stddef.h>
#include <stdint.h>

typedef struct vms_spool_s  vms_spool_t;

typedef struct {
    char      *topic;
    char      *key;
    size_t     keylen;
    char      *value;
    size_t     len;
    uint64_t   off;        /* where the record starts */
    uint64_t   end;        /* where the next one starts */
} vms_spool_rec_t;

vms_spool_t *vms_spool_open(const char *dir, int64_t max_bytes, char *err,
    size_t errlen);
void vms_spool_close(vms_spool_t *sp);

/* 0, or -1 when full (the caller counts the loss), -2 on I/O error. */
int vms_spool_append(vms_spool_t *sp, const char *topic, const char *key,
    size_t keylen, const void *value, size_t len);

/* Record at off (>= committed).  1 read, 0 nothing there, -1 error. */
int vms_spool_read(vms_spool_t *sp, uint64_t off, vms_spool_rec_t *rec);
void vms_spool_rec_free(vms_spool_rec_t *rec);

/* Everything before off is delivered.  0 or -1. */
int vms_spool_commit(vms_spool_t *sp, uint64_t off);

uint64_t vms_spool_committed(vms_spool_t *sp);
uint64_t vms_spool_end(vms_spool_t *sp);
/* 1 while records wait for delivery */
int vms_spool_pending(vms_spool_t *sp);

#endif /* VMS_SPOOL_H */
