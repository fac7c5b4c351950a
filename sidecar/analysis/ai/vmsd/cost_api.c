/*
 * Cost: GET /api/analytics/ai-cost, the cost metrics, daily totals in
 * PostgreSQL ai_costs (see vmsd_ai.h, ai/cost.h).
 *
 *   GET /api/analytics/ai-cost[?camera_id=ID][&from=YYYY-MM-DD][&to=…]
 *   -> 200 {"cameras":[{"camera_id":…,"days":[{"date":…,"cost_usd":…,
 *           "calls":{API:n},"providers":{…}}]}],"total_usd":…}
 *   -> 400 {"error":…} for a bad camera id or date.
 * Figures are those of this vmsd process since it started (62 days kept);
 * ai_costs in PostgreSQL keeps every day.
 */

#include "vmsd_ai.h"
#include "../cost.h"
#include "http.h"
#include "metrics.h"
#include "pg.h"
#include "state.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int
date_valid(const char *s)
{
    struct tm tm;
    char     *end;

    if (strlen(s) != 10) {
        return 0;
    }
    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y-%m-%d", &tm);
    return end != NULL && *end == '\0';
}

static int
cost_handler(const vms_http_req_t *req, vms_http_resp_t *resp, void *data)
{
    const char *cam = vms_http_arg(req, "camera_id");
    const char *from = vms_http_arg(req, "from");
    const char *to = vms_http_arg(req, "to");
    char       *json;

    if (cam != NULL && !vms_camera_id_valid(cam, strlen(cam))) {
        vms_http_error(resp, 400, "camera_id: expected [A-Za-z0-9_-]{1,64}");
        return 0;
    }
    if ((from != NULL && !date_valid(from)) || (to != NULL && !date_valid(to))) {
        vms_http_error(resp, 400, "from/to: expected YYYY-MM-DD");
        return 0;
    }
    json = vms_ai_cost_json(cam, from, to);
    if (json == NULL) {
        vms_http_error(resp, 500, "out of memory");
        return 0;
    }
    vms_buf_append(&resp->body, json, strlen(json));
    free(json);
    return 0;
}

static void
emit(void *ud, const char *text, size_t len)
{
    vms_buf_append(ud, text, len);
}

static void
collect(vms_buf_t *out, void *data)
{
    vms_ai_cost_metrics(emit, out);
}

void
vms_ai_cost_api_init(void)
{
    vms_http_route("GET", "/api/analytics/ai-cost", cost_handler, NULL);
    vms_metrics_register_collector(collect, NULL);
}

void
vms_ai_cost_persist(const char *camera_id, int64_t ts_us,
    const char *provider, const char *api, int calls, double usd)
{
    vms_pg_stats_t st;

    vms_pg_stats(&st);
    if (!st.enabled || calls == 0) {
        return;
    }
    vms_state_ai_cost_row(camera_id, ts_us, provider, api, calls, usd);
}
