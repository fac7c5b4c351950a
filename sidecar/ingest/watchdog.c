#include "watchdog.h"
#include "camera.h"
#include "log.h"
#include "util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

static pthread_t   thread;
static int         started;
static atomic_int  stop;
static _Atomic int64_t  last_pass;   /* mono us of the last full pass */

typedef struct {
    int64_t  now;
    int64_t  next_ms;
} tick_t;

static void
check(vms_camera_t *cam, void *data)
{
    tick_t   *t = data;
    int64_t   next = vms_camera_watchdog(cam, t->now);

    if (next < t->next_ms) {
        t->next_ms = next;
    }
}

static void *
watchdog_thread(void *arg)
{
    while (!atomic_load(&stop)) {
        tick_t           t = { vms_mono_us(), 1000 };
        struct timespec  ts;

        vms_cameras_foreach(check, &t);
        atomic_store(&last_pass, vms_mono_us());
        /* wake at the earliest due check; at least every 1 s for cameras
         * added by a reload, and every 100 ms for stop */
        if (t.next_ms < 10) {
            t.next_ms = 10;
        }
        if (t.next_ms > 100) {
            t.next_ms = 100;
        }
        ts.tv_sec = 0;
        ts.tv_nsec = t.next_ms * 1000000;
        nanosleep(&ts, NULL);
    }
    return NULL;
}

int
vms_watchdog_start(void)
{
    if (pthread_create(&thread, NULL, watchdog_thread, NULL) != 0) {
        vms_log_error(NULL, "watchdog: cannot start its thread");
        return -1;
    }
    started = 1;
    return 0;
}

int64_t
vms_watchdog_last_pass_us(void)
{
    return atomic_load(&last_pass);
}

void
vms_watchdog_stop(void)
{
    if (started) {
        atomic_store(&stop, 1);
        pthread_join(thread, NULL);
        started = 0;
    }
}
