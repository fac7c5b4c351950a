/*
 * vms-index: build, inspect and exercise a camera's segment index.
 *   vms-index rebuild  CAMERA_DIR [--template T] [--gap SECONDS]
 *   vms-index list     CAMERA_DIR [--start ISO] [--end ISO] [--frags]
 *   vms-index timeline CAMERA_DIR --start ISO --end ISO
 *   vms-index playlist CAMERA_DIR --start ISO --end ISO [--prefix URL]
 *   vms-index check    CAMERA_DIR
 *   vms-index open     CAMERA_DIR REL_PATH | --clear
 *   vms-index bench    CAMERA_DIR --start ISO --end ISO [--day ISO]
 * rebuild scans the camera's MP4 files (the only place that parses MP4);
 * everything else reads the index exactly as the nginx module does.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vms_index.h"
#include "vms_segpath.h"
#include "vms_mp4.h"
#include "pb_plan.h"
#include "pb_time.h"

#define MEDIAMTX_TEMPLATE "%path/%Y-%m-%d_%H-%M-%S-%f"

typedef struct {
    char    *rel;
    int64_t  start_us;
} file_t;

static struct {
    const char *camera_dir;
    const char *camera;
    const char *tmpl;
    file_t     *files;
    size_t      n, cap;
    size_t      skipped;
} scan;

static int
usage(void)
{
    fprintf(stderr,
            "usage: vms-index rebuild  CAMERA_DIR [--template T] [--gap SECONDS]\n"
            "       vms-index list     CAMERA_DIR [--start ISO] [--end ISO] [--frags]\n"
            "       vms-index timeline CAMERA_DIR --start ISO --end ISO\n"
            "       vms-index playlist CAMERA_DIR --start ISO --end ISO [--prefix URL]\n"
            "       vms-index check    CAMERA_DIR\n"
            "       vms-index open     CAMERA_DIR REL_PATH|--clear\n"
            "       vms-index bench    CAMERA_DIR --start ISO --end ISO [--day ISO]\n");
    return 2;
}

static int
start_of(const char *rel, int64_t *t)
{
    char base[4096];
    size_t len = strlen(rel);
    if (len < 5 || strcmp(rel + len - 4, ".mp4") != 0 || len - 4 >= sizeof(base)) {
        return -1;
    }
    memcpy(base, rel, len - 4);
    base[len - 4] = 0;
    const char *tmpls[] = { scan.tmpl, VMS_SEGPATH_DEFAULT, MEDIAMTX_TEMPLATE };
    for (size_t i = 0; i < 3; i++) {
        if (tmpls[i] != NULL && vms_segpath_parse(tmpls[i], scan.camera, base, t) == 0) {
            return 0;
        }
    }
    return -1;
}

static int
visit(const char *fpath, const struct stat *st, int flag, struct FTW *ftw)
{
    const char *rel = fpath + strlen(scan.camera_dir) + 1;
    if (flag == FTW_D && strncmp(rel, ".index", 6) == 0) {
        return FTW_SKIP_SUBTREE;
    }
    if (flag != FTW_F) {
        return FTW_CONTINUE;
    }
    int64_t t;
    if (start_of(rel, &t) < 0) {
        if (strlen(rel) > 4 && strcmp(rel + strlen(rel) - 4, ".mp4") == 0) {
            fprintf(stderr, "vms-index: %s: name does not match the path template; skipped\n", fpath);
            scan.skipped++;
        }
        return FTW_CONTINUE;
    }
    if (scan.n == scan.cap) {
        scan.cap = scan.cap ? scan.cap * 2 : 256;
        scan.files = realloc(scan.files, scan.cap * sizeof(*scan.files));
        if (scan.files == NULL) {
            return FTW_STOP;
        }
    }
    scan.files[scan.n].rel = strdup(rel);
    scan.files[scan.n].start_us = t;
    scan.n++;
    return FTW_CONTINUE;
}

static int
cmp_file(const void *a, const void *b)
{
    const file_t *x = a, *y = b;
    return x->start_us < y->start_us ? -1 : x->start_us > y->start_us;
}

/* Scans one file and makes its index segment the way vmsd's crash recovery
 * does (vms_mp4_segment); a reason on stderr when it cannot be indexed. */
static int
scan_file(const char *path, int64_t name_start_us, vms_mp4_info_t *info, vms_index_segment_t *seg)
{
    char err[512];
    if (vms_mp4_scan(path, info, err, sizeof(err)) < 0) {
        fprintf(stderr, "vms-index: %s: %s; skipped\n", path, err);
        return -1;
    }
    if (vms_mp4_segment(info, name_start_us, seg) < 0) {
        fprintf(stderr, "vms-index: %s: no complete fragment (not a fragmented MP4?); skipped\n", path);
        vms_mp4_info_free(info);
        return -1;
    }
    return 0;
}

static int
cmd_rebuild(const char *camera_dir, const char *tmpl, int64_t gap_us)
{
    char cam[4096], old[4200], idx[4200];
    snprintf(cam, sizeof(cam), "%s", camera_dir);
    scan.camera_dir = camera_dir;
    scan.camera = basename(cam);
    scan.tmpl = tmpl;
    if (nftw(camera_dir, visit, 32, FTW_PHYS | FTW_ACTIONRETVAL) != 0) {
        fprintf(stderr, "vms-index: cannot walk %s: %s\n", camera_dir, strerror(errno));
        return 1;
    }
    qsort(scan.files, scan.n, sizeof(*scan.files), cmp_file);

    /* the old index moves aside and goes only when the new one is complete */
    snprintf(idx, sizeof(idx), "%s/" VMS_INDEX_DIRNAME, camera_dir);
    snprintf(old, sizeof(old), "%s/.index.old.%d", camera_dir, (int) getpid());
    int had_old = rename(idx, old) == 0;
    if (!had_old && errno != ENOENT) {
        fprintf(stderr, "vms-index: cannot move %s aside: %s\n", idx, strerror(errno));
        return 1;
    }
    size_t indexed = 0, bad = 0;
    int64_t prev_end = INT64_MIN;
    for (size_t i = 0; i < scan.n; i++) {
        char path[8192], err[512];
        snprintf(path, sizeof(path), "%s/%s", camera_dir, scan.files[i].rel);
        vms_mp4_info_t info;
        vms_index_segment_t seg;
        if (scan_file(path, scan.files[i].start_us, &info, &seg) < 0) {
            bad++;
            continue;
        }
        if (prev_end != INT64_MIN && seg.start_us - prev_end > gap_us) {
            seg.flags |= VMS_SEG_DISCONTINUITY;
        }
        snprintf(seg.path, sizeof(seg.path), "%s", scan.files[i].rel);
        int rc = strlen(scan.files[i].rel) >= VMS_INDEX_PATH_MAX ? -ENAMETOOLONG
                 : vms_index_append_e(camera_dir, &seg, err, sizeof(err));
        vms_mp4_info_free(&info);
        if (rc < 0) {
            fprintf(stderr, "vms-index: %s: %s\n", path, rc == -ENAMETOOLONG ? "path too long" : err);
            bad++;
            continue;
        }
        prev_end = seg.start_us + seg.duration_us;
        indexed++;
    }
    if (had_old) {
        char cmd[8400];
        snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", old);
        if (system(cmd) != 0) {
            fprintf(stderr, "vms-index: could not remove the old index %s\n", old);
        }
    }
    printf("vms-index: %s: %zu segments indexed, %zu unreadable, %zu names not matching\n",
           camera_dir, indexed, bad, scan.skipped);
    return bad ? 1 : 0;
}

static int
query(const char *camera_dir, int64_t from, int64_t to, vms_index_reader_t **r,
    vms_index_result_t *res)
{
    char err[1024];
    *r = vms_index_reader_new(64);
    int rc = vms_index_query(*r, camera_dir, from, to, res, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "vms-index: %s\n", err);
        return 1;
    }
    return 0;
}

static int
cmd_list(const char *camera_dir, int64_t from, int64_t to, int frags)
{
    vms_index_reader_t *r;
    vms_index_result_t res;
    if (query(camera_dir, from, to, &r, &res)) {
        return 1;
    }
    for (size_t i = 0; i < res.n; i++) {
        vms_index_entry_t *e = &res.v[i];
        char t[40], d[40];
        pb_time_format(t, e->start_us);
        pb_seconds_format(d, e->duration_us);
        printf("%s %s %llu %u %u%s%s %s\n", t, d, (unsigned long long) e->bytes, e->init_size,
               e->nfrags, e->flags & VMS_SEG_DISCONTINUITY ? " disc" : "",
               e->flags & VMS_SEG_OPEN ? " open" : "", e->path);
        if (frags) {
            char err[1024];
            if (vms_index_frags(r, e, err, sizeof(err)) < 0) {
                fprintf(stderr, "vms-index: %s\n", err);
                vms_index_reader_free(r);
                return 1;
            }
            for (uint32_t k = 0; k < e->nfrags; k++) {
                printf("  frag %u offset %llu size %u start %lld dur %lld%s\n", k,
                       (unsigned long long) e->frags[k].offset, e->frags[k].size,
                       (long long) e->frags[k].start_us, (long long) e->frags[k].duration_us,
                       e->frags[k].flags & VMS_FRAG_KEY ? " key" : "");
            }
        }
    }
    vms_index_reader_free(r);
    return 0;
}

static int
cmd_render(const char *camera_dir, int64_t from, int64_t to, const char *prefix, int timeline)
{
    vms_index_reader_t *r;
    vms_index_result_t res;
    if (query(camera_dir, from, to, &r, &res)) {
        return 1;
    }
    pb_buf_t b = { 0 };
    int rc = 0;
    if (timeline) {
        pb_span_t *s = malloc((res.n + 1) * sizeof(*s));
        size_t n = pb_spans(&res, from, to, 500000, s);
        pb_render_timeline(&b, "camera", from, to, s, n);
        free(s);
    } else {
        pb_plan_conf_t c = { .from_us = from, .to_us = to, .gap_us = 500000 };
        pb_plan_t plan;
        char err[1024];
        if (pb_plan_build(r, &res, &c, &plan, err, sizeof(err)) < 0) {
            fprintf(stderr, "vms-index: %s\n", err);
            rc = 1;
        } else {
            pb_render_playlist(&b, &plan, prefix, "");
            pb_plan_free(&plan);
        }
    }
    if (rc == 0 && b.p != NULL) {
        fputs(b.p, stdout);
    }
    pb_buf_free(&b);
    vms_index_reader_free(r);
    return rc;
}

static int
check_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "vms-index: %s: %s\n", path, strerror(errno));
        return 1;
    }
    size_t cap = 1 << 20, len = 0;
    unsigned char *b = malloc(cap);
    size_t n;
    while (b != NULL && (n = fread(b + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            b = realloc(b, cap *= 2);
        }
    }
    fclose(f);
    char err[512];
    int rc = b == NULL ? -1 : vms_index_validate_buf(b, len, err, sizeof(err));
    free(b);
    if (rc < 0) {
        fprintf(stderr, "vms-index: %s: %s\n", path, b == NULL ? "out of memory" : err);
        return 1;
    }
    return 0;
}

static int
cmd_check(const char *camera_dir)
{
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/" VMS_INDEX_DIRNAME, camera_dir);
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "vms-index: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    struct dirent *de;
    int bad = 0, files = 0;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if ((l > 4 && strcmp(de->d_name + l - 4, ".seg") == 0)
            || (l > 5 && strcmp(de->d_name + l - 5, ".frag") == 0) || strcmp(de->d_name, "open") == 0) {
            char p[8400];
            snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
            bad |= check_file(p);
            files++;
        }
    }
    closedir(d);
    printf("vms-index: %s: %d files checked, %s\n", dir, files, bad ? "CORRUPT" : "ok");
    return bad;
}

/* Records REL_PATH, as it is now, as the segment being written (what the
 * recorder does at each fragment); for debugging and tests. */
static int
cmd_open(const char *camera_dir, const char *rel, const char *tmpl)
{
    if (strcmp(rel, "--clear") == 0) {
        return vms_index_write_open(camera_dir, NULL) < 0;
    }
    char cam[4096], path[8192];
    snprintf(cam, sizeof(cam), "%s", camera_dir);
    scan.camera = basename(cam);
    scan.tmpl = tmpl;
    vms_index_segment_t seg;
    memset(&seg, 0, sizeof(seg));
    if (start_of(rel, &seg.start_us) < 0 || strlen(rel) >= VMS_INDEX_PATH_MAX) {
        fprintf(stderr, "vms-index: %s: name does not match the path template\n", rel);
        return 1;
    }
    snprintf(path, sizeof(path), "%s/%s", camera_dir, rel);
    vms_mp4_info_t info;
    if (scan_file(path, seg.start_us, &info, &seg) < 0) {
        return 1;
    }
    snprintf(seg.path, sizeof(seg.path), "%s", rel);
    int rc = vms_index_write_open(camera_dir, &seg);
    vms_mp4_info_free(&info);
    if (rc < 0) {
        fprintf(stderr, "vms-index: write open record: %s\n", strerror(-rc));
        return 1;
    }
    return 0;
}

static double
now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static size_t walk_files;

static int
walk_stat(const char *fpath, const struct stat *st, int flag, struct FTW *ftw)
{
    walk_files += flag == FTW_F;
    return FTW_CONTINUE;
}

/*
 * What a request costs with the index (query + plan + playlist for the 24 h
 * from --day; query + merge + /list JSON for [--start, --end)) against a
 * walk of the camera directory that stats every file (how a list is made
 * without an index).  Warm caches for both; JSON on stdout.
 */
static int
cmd_bench(const char *camera_dir, int64_t from, int64_t to, int64_t day)
{
    vms_index_reader_t *r = vms_index_reader_new(64);
    char err[1024];
    vms_index_result_t res;
    pb_plan_t plan;
    double best_pl = 1e18, best_list = 1e18, best_walk = 1e18;
    size_t pl_len = 0, list_len = 0, nsegs = 0, npl = 0;
    for (int i = 0; i < 50; i++) {
        double t0 = now_us();
        pb_plan_conf_t c = { .from_us = day, .to_us = day + 86400LL * 1000000, .gap_us = 500000,
                             .keyframe_start = 1 };
        pb_buf_t b = { 0 };
        if (vms_index_query(r, camera_dir, c.from_us, c.to_us, &res, err, sizeof(err)) < 0
            || pb_plan_build(r, &res, &c, &plan, err, sizeof(err)) < 0) {
            fprintf(stderr, "vms-index: %s\n", err);
            return 1;
        }
        pb_render_playlist(&b, &plan, "cam/media/", "");
        npl = plan.n;
        pb_plan_free(&plan);
        double t1 = now_us();
        pl_len = b.len;
        pb_buf_free(&b);
        if (vms_index_query(r, camera_dir, from, to, &res, err, sizeof(err)) < 0) {
            fprintf(stderr, "vms-index: %s\n", err);
            return 1;
        }
        pb_span_t *s = malloc((res.n + 1) * sizeof(*s));
        size_t n = pb_spans(&res, from, to, 500000, s);
        pb_render_list(&b, s, n, "http://127.0.0.1/get", "cam");
        nsegs = res.n;
        free(s);
        double t2 = now_us();
        list_len = b.len;
        pb_buf_free(&b);
        if (t1 - t0 < best_pl) {
            best_pl = t1 - t0;
        }
        if (t2 - t1 < best_list) {
            best_list = t2 - t1;
        }
    }
    for (int i = 0; i < 3; i++) {
        walk_files = 0;
        double t0 = now_us();
        nftw(camera_dir, walk_stat, 64, FTW_PHYS | FTW_ACTIONRETVAL);
        double t1 = now_us();
        if (t1 - t0 < best_walk) {
            best_walk = t1 - t0;
        }
    }
    printf("{\"segments\":%zu,\"playlist_entries\":%zu,\"playlist_bytes\":%zu,\"list_bytes\":%zu,"
           "\"files_walked\":%zu,\"playlist_24h_us\":%.1f,\"list_30d_us\":%.1f,\"walk_stat_us\":%.1f}\n",
           nsegs, npl, pl_len, list_len, walk_files, best_pl, best_list, best_walk);
    vms_index_reader_free(r);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc < 3) {
        return usage();
    }
    const char *cmd = argv[1], *dir = argv[2], *tmpl = NULL, *prefix = "";
    if (strcmp(cmd, "open") == 0) {
        if (argc < 4) {
            return usage();
        }
        return cmd_open(dir, argv[3], argc > 5 && strcmp(argv[4], "--template") == 0 ? argv[5] : NULL);
    }
    int64_t from = 1, to = INT64_MAX, gap = 500000, day = 0;
    int frags = 0, have_start = 0, have_end = 0;
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--frags") == 0) {
            frags = 1;
            continue;
        }
        if (v == NULL) {
            return usage();
        }
        i++;
        if (strcmp(a, "--start") == 0 && pb_time_parse(v, strlen(v), &from) == 0) {
            have_start = 1;
        } else if (strcmp(a, "--end") == 0 && pb_time_parse(v, strlen(v), &to) == 0) {
            have_end = 1;
        } else if (strcmp(a, "--day") == 0 && pb_time_parse(v, strlen(v), &day) == 0) {
        } else if (strcmp(a, "--template") == 0) {
            tmpl = v;
        } else if (strcmp(a, "--prefix") == 0) {
            prefix = v;
        } else if (strcmp(a, "--gap") == 0 && pb_duration_parse(v, strlen(v), &gap) == 0) {
        } else {
            fprintf(stderr, "vms-index: bad option or value: %s %s\n", a, v);
            return 2;
        }
    }
    size_t dl = strlen(dir);
    char d[4096];
    snprintf(d, sizeof(d), "%.*s", (int) (dl > 1 && dir[dl - 1] == '/' ? dl - 1 : dl), dir);
    if (strcmp(cmd, "rebuild") == 0) {
        return cmd_rebuild(d, tmpl, gap);
    }
    if (strcmp(cmd, "list") == 0) {
        return cmd_list(d, from, to, frags);
    }
    if (strcmp(cmd, "bench") == 0) {
        return cmd_bench(d, from, to, day ? day : from);
    }
    if (strcmp(cmd, "check") == 0) {
        return cmd_check(d);
    }
    if (strcmp(cmd, "playlist") == 0 || strcmp(cmd, "timeline") == 0) {
        if (!have_start || !have_end || to <= from) {
            fprintf(stderr, "vms-index: %s needs --start and --end (end after start)\n", cmd);
            return 2;
        }
        return cmd_render(d, from, to, prefix, strcmp(cmd, "timeline") == 0);
    }
    return usage();
}
