/*
 * Durable file-system steps shared by the recorder, reconciliation and
 * retention (docs/recording.md, "Durability"): a new directory entry is
 * fsynced in its parent before anything relies on it.
 */

#ifndef VMS_RECFS_H
#define VMS_RECFS_H

#include <stddef.h>

/* fsync the directory at path.  0 or -errno. */
int vms_fsync_dir(const char *path);

/* fsync the directory holding path ("a/b/c" -> "a/b").  0 or -errno. */
int vms_fsync_parent(const char *path);

/* mkdir -p below an existing base: every directory created is fsynced in
 * its parent.  dir must start with base.  0 or -errno. */
int vms_mkdir_durable(const char *base, const char *dir);

/* Remove the now-empty directories from dirname(path) up to, not
 * including, stop (a prefix of path); fsyncs the parent of the last one
 * removed.  Stops quietly at the first non-empty directory. */
void vms_rmdir_empty_up(const char *stop, const char *path);

#endif /* VMS_RECFS_H */
