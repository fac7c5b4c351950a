/*
 * Time on the wire for playback: RFC 3339 in, RFC 3339 (nano, UTC) out,
 * decimal seconds for durations.  Inside: int64 microseconds since the epoch.
 * nginx-free.
 */
#ifndef PB_TIME_H
#define PB_TIME_H

#include <stddef.h>
#include <stdint.h>

/* RFC 3339 / ISO 8601: YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM|±HHMM); ' ' for
 * 'T' accepted; no zone means UTC.  Fractions beyond microseconds are
 * truncated.  0, or -1 when s[0..len) is not such a time. */
int pb_time_parse(const char *s, size_t len, int64_t *us);

/* Decimal seconds ("60", "60.5", "0.04") to microseconds, > 0 and at most
 * 10 years.  0 or -1. */
int pb_duration_parse(const char *s, size_t len, int64_t *us);

/* Go's time.ParseDuration syntax ("10s", "1m30s", "1.5h", "500ms", "90us";
 * units ns us µs μs ms s m h, a leading '+'), > 0 and at most 10 years
 * (a negative or zero duration is refused).  0 or -1. */
int pb_go_duration_parse(const char *s, size_t len, int64_t *us);

/* /get's duration as MediaMTX reads it: decimal seconds, else Go syntax. */
int pb_get_duration_parse(const char *s, size_t len, int64_t *us);

/* "2026-11-24T01:02:03.456789Z" (trailing zeros of the fraction trimmed,
 * like Go's RFC3339Nano); returns the length written (buf >= 32 bytes). */
size_t pb_time_format(char *buf, int64_t us);

/* Seconds with up to 6 decimals, trailing zeros trimmed ("64.5", "60"). */
size_t pb_seconds_format(char *buf, int64_t us);

#endif /* PB_TIME_H */
