/* ROI parsing, validation against the frame, crop and mapping back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "roi.h"

static void
test_parse_seed_example(void **state)
{
    vms_roi_t roi;
    char err[256] = "";

    assert_int_equal(vms_roi_parse(&roi,
        "[{\"x\":100,\"y\":200,\"width\":400,\"height\":300}]", err,
        sizeof(err)), 0);
    assert_int_equal(roi.n, 1);
    assert_int_equal(roi.area[0].x, 100);
    assert_int_equal(roi.area[0].y, 200);
    assert_int_equal(roi.area[0].w, 400);
    assert_int_equal(roi.area[0].h, 300);
    assert_int_equal(vms_roi_parse(&roi, "[]", err, sizeof(err)), 0);
    assert_int_equal(roi.n, 0);
}

static void
test_parse_errors_name_the_problem(void **state)
{
    vms_roi_t roi;
    char err[256];

    assert_int_equal(vms_roi_parse(&roi, "[{\"x\":1,", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "invalid JSON"));
    assert_int_equal(vms_roi_parse(&roi, "{\"x\":1}", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "array"));
    assert_int_equal(vms_roi_parse(&roi,
        "[{\"x\":0,\"y\":0,\"width\":10,\"height\":10},"
        "{\"x\":-5,\"y\":0,\"width\":10,\"height\":10}]", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "roi_areas[1]"));
    assert_non_null(strstr(err, "\"x\""));
    assert_int_equal(roi.n, 0);
    assert_int_equal(vms_roi_parse(&roi,
        "[{\"x\":0,\"y\":0,\"width\":0,\"height\":10}]", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "\"width\""));
    assert_int_equal(vms_roi_parse(&roi,
        "[{\"x\":0,\"y\":0,\"width\":\"10\",\"height\":10}]", err,
        sizeof(err)), -1);
    assert_non_null(strstr(err, "integer"));
    assert_int_equal(vms_roi_parse(&roi,
        "[{\"x\":0,\"y\":0,\"w\":10,\"height\":10}]", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown member \"w\""));
    assert_int_equal(vms_roi_parse(&roi,
        "[{\"x\":0,\"y\":0,\"width\":1.5,\"height\":10}]", err, sizeof(err)), -1);
}

static void
test_validate_against_frame(void **state)
{
    vms_roi_t roi;
    char err[256];

    assert_int_equal(vms_roi_parse(&roi,
        "[{\"x\":100,\"y\":200,\"width\":400,\"height\":300},"
        "{\"x\":600,\"y\":0,\"width\":200,\"height\":100}]", err,
        sizeof(err)), 0);
    assert_int_equal(vms_roi_validate(&roi, 1920, 1080, err, sizeof(err)), 0);
    assert_int_equal(vms_roi_validate(&roi, 800, 500, err, sizeof(err)), 0);
    assert_int_equal(vms_roi_validate(&roi, 768, 576, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "roi_areas[1]"));
    assert_non_null(strstr(err, "768x576"));
    assert_int_equal(vms_roi_validate(&roi, 640, 480, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "roi_areas[0]"));
}

static void
test_crop_is_even_bounding_box(void **state)
{
    vms_roi_t roi;
    vms_roi_rect_t c;
    char err[256];

    vms_roi_parse(&roi, "[]", err, sizeof(err));
    vms_roi_crop(&roi, 768, 576, &c);
    assert_int_equal(c.x, 0);
    assert_int_equal(c.w, 768);
    assert_int_equal(c.h, 576);

    vms_roi_parse(&roi, "[{\"x\":101,\"y\":201,\"width\":399,\"height\":299},"
        "{\"x\":50,\"y\":300,\"width\":20,\"height\":250}]", err, sizeof(err));
    vms_roi_crop(&roi, 768, 576, &c);
    assert_int_equal(c.x, 50);
    assert_int_equal(c.y, 200);
    assert_int_equal(c.x + c.w, 500);
    assert_int_equal(c.y + c.h, 550);
    assert_int_equal(c.w % 2, 0);
    assert_int_equal(c.h % 2, 0);
}

static void
test_map_back_to_full_frame(void **state)
{
    vms_roi_rect_t crop = { 100, 200, 400, 300 }, b, out;

    /* the crop sent at half size: a box at (10,20) 50x40 there */
    b = (vms_roi_rect_t) { 10, 20, 50, 40 };
    vms_roi_map(&crop, 200, 150, &b, &out);
    assert_int_equal(out.x, 120);
    assert_int_equal(out.y, 240);
    assert_int_equal(out.w, 100);
    assert_int_equal(out.h, 80);
    /* a box hanging over the edge is clipped to the crop */
    b = (vms_roi_rect_t) { 180, 140, 50, 40 };
    vms_roi_map(&crop, 200, 150, &b, &out);
    assert_int_equal(out.x + out.w, 500);
    assert_int_equal(out.y + out.h, 500);
}

static void
test_areas_in_motion_image_and_centre(void **state)
{
    vms_roi_t roi;
    vms_roi_rect_t crop, a[VMS_ROI_MAX];
    char err[256];

    vms_roi_parse(&roi, "[{\"x\":0,\"y\":0,\"width\":100,\"height\":100},"
        "{\"x\":300,\"y\":100,\"width\":100,\"height\":100}]", err, sizeof(err));
    vms_roi_crop(&roi, 640, 480, &crop);
    assert_int_equal(crop.w, 400);
    assert_int_equal(crop.h, 200);
    assert_int_equal(vms_roi_areas_in(&roi, &crop, 160, 80, a, VMS_ROI_MAX), 2);
    assert_int_equal(a[0].x, 0);
    assert_int_equal(a[0].w, 40);
    assert_int_equal(a[0].h, 40);
    assert_int_equal(a[1].x, 120);
    assert_int_equal(a[1].y, 40);
    assert_int_equal(a[1].w, 40);

    vms_roi_rect_t in = { 310, 110, 20, 20 }, out = { 150, 10, 20, 20 };
    assert_true(vms_roi_contains_centre(&roi, &in));
    assert_false(vms_roi_contains_centre(&roi, &out));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_seed_example),
        cmocka_unit_test(test_parse_errors_name_the_problem),
        cmocka_unit_test(test_validate_against_frame),
        cmocka_unit_test(test_crop_is_even_bounding_box),
        cmocka_unit_test(test_map_back_to_full_frame),
        cmocka_unit_test(test_areas_in_motion_image_and_centre),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
