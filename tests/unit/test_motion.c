/* Motion trigger arithmetic: static noise, slow light, IR switch, areas. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "motion.h"

#define W 100
#define H 100

static uint32_t rng = 12345;

static int
noise(int amp)
{
    rng = rng * 1103515245u + 12345u;
    return (int) ((rng >> 16) % (2 * amp + 1)) - amp;
}

/* A textured scene (gradient + checker) at brightness scale gain/offset,
 * with sensor noise, and optionally a dark square at (sx, sy) size s. */
static void
scene(uint8_t *img, double gain, int offset, int amp, int sx, int sy, int s)
{
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            int v = 60 + x + ((x / 10 + y / 10) % 2) * 40;
            if (s > 0 && x >= sx && x < sx + s && y >= sy && y < sy + s) {
                v = 250 - v / 2;
            }
            v = (int) (v * gain) + offset + noise(amp);
            img[y * W + x] = (uint8_t) (v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
}

static void
test_static_noisy_scene_never_moves(void **state)
{
    vms_motion_t m;
    vms_motion_conf_t c;
    vms_motion_result_t r;
    uint8_t img[W * H];
    int moved = 0;

    vms_motion_conf_default(&c);
    assert_int_equal(vms_motion_init(&m, W, H, NULL, 0), 0);
    for (int i = 0; i < 200; i++) {
        scene(img, 1.0, 0, 8, 0, 0, 0);
        vms_motion_feed(&m, &c, img, W, &r);
        moved += r.motion;
        assert_true(r.fraction < 0.01);
    }
    assert_int_equal(moved, 0);
    vms_motion_free(&m);
}

static void
test_moving_object_is_motion_with_its_box(void **state)
{
    vms_motion_t m;
    vms_motion_conf_t c;
    vms_motion_result_t r;
    uint8_t img[W * H];

    vms_motion_conf_default(&c);
    assert_int_equal(vms_motion_init(&m, W, H, NULL, 0), 0);
    for (int i = 0; i < 5; i++) {
        scene(img, 1.0, 0, 3, 0, 0, 0);
        vms_motion_feed(&m, &c, img, W, &r);
    }
    /* 20x20 = 4 % of the frame appears */
    scene(img, 1.0, 0, 3, 50, 30, 20);
    vms_motion_feed(&m, &c, img, W, &r);
    assert_true(r.motion);
    assert_true(r.fraction >= 0.03);
    /* padded: holds the object and a margin, not the whole frame */
    assert_in_range(r.box.x, 42, 49);
    assert_in_range(r.box.y, 22, 29);
    assert_true(r.box.x + r.box.w >= 71 && r.box.x + r.box.w <= 78);
    assert_true(r.box.y + r.box.h >= 51 && r.box.y + r.box.h <= 58);
    assert_int_equal(r.regions, 1);
    vms_motion_free(&m);
}

static void
prime(vms_motion_t *m, vms_motion_conf_t *c, uint8_t *img)
{
    vms_motion_result_t r;

    for (int i = 0; i < 5; i++) {
        scene(img, 1.0, 0, 3, 0, 0, 0);
        vms_motion_feed(m, c, img, W, &r);
    }
}

static void
test_one_percent_blob_is_found(void **state)
{
    vms_motion_t m;
    vms_motion_conf_t c;
    vms_motion_result_t r;
    uint8_t img[W * H];

    /* the old criterion alone (min_area off): 1 % is below 0.03 */
    vms_motion_conf_default(&c);
    c.min_area = 0;
    vms_motion_init(&m, W, H, NULL, 0);
    prime(&m, &c, img);
    scene(img, 1.0, 0, 3, 50, 30, 10);      /* 10x10 = 1 % */
    vms_motion_feed(&m, &c, img, W, &r);
    assert_false(r.motion);
    assert_true(r.fraction > 0.005 && r.fraction < 0.03);
    vms_motion_free(&m);

    /* the default criterion: one region >= min_area */
    vms_motion_conf_default(&c);
    vms_motion_init(&m, W, H, NULL, 0);
    prime(&m, &c, img);
    scene(img, 1.0, 0, 3, 50, 30, 10);
    vms_motion_feed(&m, &c, img, W, &r);
    assert_true(r.motion);
    assert_int_equal(r.regions, 1);
    assert_true(r.region >= c.min_area);
    assert_true(r.box.x <= 50 && r.box.x + r.box.w >= 60);
    assert_true(r.box.y <= 30 && r.box.y + r.box.h >= 40);
    vms_motion_free(&m);
}

static void
test_single_pixel_noise_is_not_motion(void **state)
{
    vms_motion_t m;
    vms_motion_conf_t c;
    vms_motion_result_t r;
    uint8_t img[W * H];

    vms_motion_conf_default(&c);
    c.normalize = 0;
    vms_motion_init(&m, W, H, NULL, 0);
    prime(&m, &c, img);
    for (int i = 0; i < 20; i++) {
        scene(img, 1.0, 0, 3, 0, 0, 0);
        /* 2 % of the pixels, isolated, flipped to the far end */
        for (int k = 0; k < W * H / 50; k++) {
            int x = (k * 7 + i * 3) % W, y = (k * 13 + i) % H;
            img[y * W + x] = img[y * W + x] > 128 ? 0 : 255;
        }
        vms_motion_feed(&m, &c, img, W, &r);
        assert_false(r.motion);
        assert_int_equal(r.regions, 0);
    }
    vms_motion_free(&m);
}

static void
test_two_blobs_give_union_box(void **state)
{
    vms_motion_t m;
    vms_motion_conf_t c;
    vms_motion_result_t r;
    uint8_t img[W * H];

    vms_motion_conf_default(&c);
    vms_motion_init(&m, W, H, NULL, 0);
    prime(&m, &c, img);
    scene(img, 1.0, 0, 3, 10, 10, 8);
    for (int y = 70; y < 78; y++) {          /* a second 8x8 blob */
        for (int x = 80; x < 88; x++) {
            img[y * W + x] = img[y * W + x] > 128 ? 10 : 245;
        }
    }
    vms_motion_feed(&m, &c, img, W, &r);
    assert_true(r.motion);
    assert_int_equal(r.regions, 2);
    assert_true(r.fraction < c.threshold);
    assert_true(r.box.x <= 10 && r.box.y <= 10);
    assert_true(r.box.x + r.box.w >= 88 && r.box.y + r.box.h >= 78);
    vms_motion_free(&m);
}

static void
test_trace_of_what_left_is_not_motion(void **state)
{
    vms_motion_t m;
    vms_motion_conf_t c;
    vms_motion_result_t r;
    uint8_t img[W * H];

    vms_motion_conf_default(&c);
    vms_motion_init(&m, W, H, NULL, 0);
    prime(&m, &c, img);
    /* something stands at one place for a while (half learnt into the
     * background), then leaves: where it stood differs from the background
     * for several frames, but nothing there changes any more */
    for (int i = 0; i < 6; i++) {
        scene(img, 1.0, 0, 3, 40, 40, 12);
        vms_motion_feed(&m, &c, img, W, &r);
    }
    scene(img, 1.0, 0, 3, 0, 0, 0);
    vms_motion_feed(&m, &c, img, W, &r);
    assert_true(r.motion);                      /* leaving is motion */
    scene(img, 1.0, 0, 3, 0, 0, 0);
    vms_motion_feed(&m, &c, img, W, &r);
    assert_true(r.region >= c.min_area);        /* the trace is there */
    assert_int_equal(r.regions, 0);             /* and is no motion */
    assert_false(r.motion);
    vms_motion_free(&m);
}

static void
test_slow_light_change_is_absorbed(void **state)
{
    vms_motion_t m;
    vms_motion_conf_t c;
    vms_motion_result_t r;
    uint8_t img[W * H];

    for (int norm = 0; norm <= 1; norm++) {
        vms_motion_conf_default(&c);
        c.normalize = norm;
        vms_motion_init(&m, W, H, NULL, 0);
        /* dusk: the scene darkens by 40 % over 120 samples */
        for (int i = 0; i <= 120; i++) {
            scene(img, 1.0 - 0.4 * i / 120.0, 0, 3, 0, 0, 0);
            vms_motion_feed(&m, &c, img, W, &r);
            assert_false(r.motion);
            assert_false(r.recalibrated);
        }
        vms_motion_free(&m);
    }
}

static void
test_ir_switch_recalibrates(void **state)
{
    vms_motion_t m;
    vms_motion_conf_t c;
    vms_motion_result_t r;
    uint8_t img[W * H];

    vms_motion_conf_default(&c);
    c.normalize = 0;       /* the raw jump, as a switch to IR looks */
    vms_motion_init(&m, W, H, NULL, 0);
    for (int i = 0; i < 5; i++) {
        scene(img, 1.0, 0, 3, 0, 0, 0);
        vms_motion_feed(&m, &c, img, W, &r);
    }
    scene(img, 0.3, 0, 3, 0, 0, 0);
    vms_motion_feed(&m, &c, img, W, &r);
    assert_true(r.recalibrated);
    assert_false(r.motion);
    assert_int_equal(m.recalibrations, 1);
    for (int i = 0; i < 10; i++) {
        scene(img, 0.3, 0, 3, 0, 0, 0);
        vms_motion_feed(&m, &c, img, W, &r);
        assert_false(r.motion);
        assert_false(r.recalibrated);
    }
    /* and motion is seen again in the new lighting */
    scene(img, 0.3, 0, 3, 20, 20, 30);
    vms_motion_feed(&m, &c, img, W, &r);
    assert_true(r.motion);
    vms_motion_free(&m);
}

static void
test_areas_ignore_motion_outside(void **state)
{
    vms_motion_t m;
    vms_motion_conf_t c;
    vms_motion_result_t r;
    uint8_t img[W * H];
    vms_motion_rect_t areas[2] = { { 0, 0, 30, 30 }, { 70, 70, 30, 30 } };

    vms_motion_conf_default(&c);
    vms_motion_init(&m, W, H, areas, 2);
    for (int i = 0; i < 5; i++) {
        scene(img, 1.0, 0, 3, 0, 0, 0);
        vms_motion_feed(&m, &c, img, W, &r);
    }
    scene(img, 1.0, 0, 3, 40, 40, 20);       /* between the areas */
    vms_motion_feed(&m, &c, img, W, &r);
    assert_false(r.motion);
    scene(img, 1.0, 0, 3, 75, 75, 10);       /* 11 % of area 1 */
    vms_motion_feed(&m, &c, img, W, &r);
    assert_true(r.motion);
    assert_true(r.area_fraction[1] > 0.05);
    assert_true(r.area_fraction[0] < 0.01);
    assert_true(r.box.x >= 70);
    vms_motion_free(&m);
}

static void
test_normalize_stretches_percentiles(void **state)
{
    uint8_t src[1000], dst[1000];

    for (int i = 0; i < 1000; i++) {
        src[i] = (uint8_t) (100 + i % 50);   /* 100..149 */
    }
    vms_motion_normalize(src, dst, 1000, 0.02, 0.98);
    int lo = 255, hi = 0;
    for (int i = 0; i < 1000; i++) {
        if (dst[i] < lo) lo = dst[i];
        if (dst[i] > hi) hi = dst[i];
    }
    assert_true(lo <= 5);
    assert_true(hi >= 250);
    /* flat images are left alone */
    memset(src, 77, sizeof(src));
    vms_motion_normalize(src, dst, 1000, 0.02, 0.98);
    assert_int_equal(dst[0], 77);
    assert_int_equal(dst[999], 77);
}

static void
test_init_rejects_bad_sizes(void **state)
{
    vms_motion_t m;

    assert_int_equal(vms_motion_init(&m, 0, 10, NULL, 0), -1);
    assert_int_equal(vms_motion_init(&m, 10, 10, NULL,
                                     VMS_MOTION_MAX_AREAS + 1), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_noisy_scene_never_moves),
        cmocka_unit_test(test_moving_object_is_motion_with_its_box),
        cmocka_unit_test(test_one_percent_blob_is_found),
        cmocka_unit_test(test_single_pixel_noise_is_not_motion),
        cmocka_unit_test(test_two_blobs_give_union_box),
        cmocka_unit_test(test_trace_of_what_left_is_not_motion),
        cmocka_unit_test(test_slow_light_change_is_absorbed),
        cmocka_unit_test(test_ir_switch_recalibrates),
        cmocka_unit_test(test_areas_ignore_motion_outside),
        cmocka_unit_test(test_normalize_stretches_percentiles),
        cmocka_unit_test(test_init_rejects_bad_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
