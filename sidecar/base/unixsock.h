/*
 * A listening unix socket file guarded by its mode: vmsd's `listen = unix:PATH`
 * (docs/vmsd.md) and vms-login's / vms-review-api's `--listen unix:PATH`
 * (docs/users.md, docs/events.md) bind through here, so all three follow the
 * same rules:
 *   - the file is created with its final mode (umask around bind): no other
 *     user can connect between bind() and chmod();
 *   - a socket file nobody accepts on (left by a process that died) is
 *     replaced; one a live process accepts on is an error, as is a path that
 *     exists and is not a socket;
 *   - the owner removes it at stop (unlink(path)).
 */
#ifndef VMS_UNIXSOCK_H
#define VMS_UNIXSOCK_H

#include <stddef.h>

/* "unix:/ABSOLUTE/PATH" → the path, else NULL. */
const char *vms_unix_path(const char *listen);

/* The listen_mode rule: octal, owner rw, nothing for others (0660, 0600,
 * 0640); the mode, or -1 with why. */
int vms_unix_parse_mode(const char *text, char *why, size_t whylen);

/* A listening socket (backlog 64, close-on-exec) at path with mode; -1
 * with err.  *stale is set to 1 when a stale file was removed first. */
int vms_unix_listen(const char *path, int mode, int *stale, char *err,
    size_t errlen);

#endif /* VMS_UNIXSOCK_H */
