/*
 * Credential redaction of log text, nginx-free.
 *
 * vms_redact() rewrites a log fragment in place so that it carries no
 * credential: the value of every query/form argument named like a credential
 * (jwt, token, access_token, id_token, refresh_token, sig, signature,
 * password, secret, api_key; any case; the name right after '?', '&' or ';'),
 * every JWT-shaped string ("eyJ" base64url with a '.') and the credentials
 * after "Bearer " or "Basic " become "***" (shorter values: as many '*').
 * The result is never longer than the input, so it fits the same buffer.
 */

#ifndef VMS_REDACT_H
#define VMS_REDACT_H

#include <stddef.h>

/* Returns the new length (<= len). */
size_t vms_redact(unsigned char *buf, size_t len);

#endif /* VMS_REDACT_H */
