/* vmsd's event spool (sidecar/sinks/spool.c): records come back in order across a
 * reopen, commits persist, a torn tail is cut, the bound holds, and a fully
 * delivered spool starts over empty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"

static char dir[64];

static int
setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/vmsd-spool-test-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int
teardown(void **state)
{
    char p[128];

    snprintf(p, sizeof(p), "%s/events.spool", dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/events.offset", dir);
    unlink(p);
    rmdir(dir);
    return 0;
}

static vms_spool_t *
open_spool(int64_t max)
{
    char         err[256];
    vms_spool_t *sp = vms_spool_open(dir, max, err, sizeof(err));

    if (sp == NULL) {
        fail_msg("%s", err);
    }
    return sp;
}

static void
append(vms_spool_t *sp, const char *v)
{
    assert_int_equal(vms_spool_append(sp, "vms.events", "cam1", 4, v, strlen(v)), 0);
}

static uint64_t
expect(vms_spool_t *sp, uint64_t off, const char *v)
{
    vms_spool_rec_t rec;
    uint64_t        end;

    assert_int_equal(vms_spool_read(sp, off, &rec), 1);
    assert_string_equal(rec.topic, "vms.events");
    assert_string_equal(rec.key, "cam1");
    assert_int_equal(rec.len, strlen(v));
    assert_memory_equal(rec.value, v, rec.len);
    end = rec.end;
    vms_spool_rec_free(&rec);
    return end;
}

static void
test_order_commit_and_reopen(void **state)
{
    vms_spool_t *sp = open_spool(1 << 20);
    uint64_t     off, second;

    assert_false(vms_spool_pending(sp));
    append(sp, "{\"n\":1}");
    append(sp, "{\"n\":2}");
    append(sp, "{\"n\":3}");
    assert_true(vms_spool_pending(sp));
    second = expect(sp, 0, "{\"n\":1}");
    off = expect(sp, second, "{\"n\":2}");
    expect(sp, off, "{\"n\":3}");
    assert_int_equal(vms_spool_commit(sp, second), 0);
    vms_spool_close(sp);

    /* a restart resumes after what was delivered */
    sp = open_spool(1 << 20);
    assert_int_equal(vms_spool_committed(sp), second);
    off = expect(sp, vms_spool_committed(sp), "{\"n\":2}");
    expect(sp, off, "{\"n\":3}");
    /* everything delivered: both files start over */
    assert_int_equal(vms_spool_commit(sp, vms_spool_end(sp)), 0);
    assert_false(vms_spool_pending(sp));
    assert_int_equal(vms_spool_end(sp), 0);
    vms_spool_close(sp);
    sp = open_spool(1 << 20);
    assert_false(vms_spool_pending(sp));
    vms_spool_close(sp);
}

static void
test_torn_tail_is_cut(void **state)
{
    vms_spool_t *sp = open_spool(1 << 20);
    char         p[128];
    uint64_t     end1;
    int          fd;

    append(sp, "first");
    end1 = vms_spool_end(sp);
    append(sp, "second");
    vms_spool_close(sp);
    /* a crash in the middle of the second append */
    snprintf(p, sizeof(p), "%s/events.spool", dir);
    fd = open(p, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t) end1 + 7), 0);
    close(fd);

    sp = open_spool(1 << 20);
    assert_int_equal(vms_spool_end(sp), end1);
    expect(sp, 0, "first");
    append(sp, "third");
    expect(sp, end1, "third");
    vms_spool_close(sp);
}

static void
test_bound_refuses_and_counts_on_caller(void **state)
{
    vms_spool_t *sp = open_spool(100);
    char         big[200];

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    append(sp, "small");
    assert_int_equal(vms_spool_append(sp, "vms.events", "cam1", 4, big, strlen(big)), -1);
    /* what was there is intact */
    expect(sp, 0, "small");
    vms_spool_close(sp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_order_commit_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_is_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bound_refuses_and_counts_on_caller, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
