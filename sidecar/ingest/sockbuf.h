/*
 * Read-ahead for the camera thread's RTSP connection (docs/recording.md,
 * "Where the CPU goes").
 *
 * FFmpeg 5.1 reads RTSP over TCP through an unbuffered URLContext: three
 * reads per interleaved RTP packet (the '$', the 3-byte header, the
 * payload), each a poll() and a recv().  At 4 Mbit/s that is ~2 400 system
 * calls a second per camera, most of a recorder's CPU.  libavformat offers
 * no hook for its TCP transport, so vmsd defines recv(), poll() and close()
 * itself (the executable's definitions come first in symbol lookup, before
 * libc's) and, on a thread inside vms_sockbuf_begin()/_end(), reads each
 * stream socket through a buffer of VMS_SOCKBUF_SIZE bytes: one recv() takes
 * whatever the kernel holds (a frame's packets arrive together), the
 * following reads are copies, and poll() answers "readable" without a
 * system call while bytes wait in the buffer.
 *
 * Everywhere else the three functions are libc's, plus a thread-local test:
 * - only a thread that called vms_sockbuf_begin() (and not yet _end())
 *   buffers; others, and that thread outside its FFmpeg calls, pass through;
 * - only stream sockets (SO_TYPE, asked once per fd): a datagram socket
 *   (RTSP over UDP) keeps its message boundaries;
 * - a close() of a buffered fd drops its buffer, so a new socket that gets
 *   the same number never sees the old one's bytes;
 * - bytes buffered on a socket are read only by the thread that buffered
 *   them: a socket must be read by one thread (FFmpeg's input is its
 *   camera thread's alone);
 * - a dup2() onto a buffered fd closes it unseen: nobody may do that to an
 *   FFmpeg socket (FFmpeg does not).
 */

#ifndef VMS_SOCKBUF_H
#define VMS_SOCKBUF_H

#include <stdint.h>

#define VMS_SOCKBUF_SIZE   (64 * 1024)
#define VMS_SOCKBUF_FDS    8          /* more stream sockets pass through */

typedef struct {
    uint64_t  reads;        /* recv() calls answered */
    uint64_t  syscalls;     /* of them, reads that went to the kernel */
    uint64_t  polls_saved;  /* poll() answered from the buffer */
} vms_sockbuf_stats_t;

/* the calling thread's stream-socket reads are buffered until _end() */
void vms_sockbuf_begin(void);
void vms_sockbuf_end(void);

/* frees the calling thread's buffers and counts; bytes still in them are
 * dropped (call it once the connection they came from is closed, and before
 * the thread ends) */
void vms_sockbuf_release(void);

/* the calling thread's counts since vms_sockbuf_begin() after a release */
vms_sockbuf_stats_t vms_sockbuf_stats(void);

#endif
