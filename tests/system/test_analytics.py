"""GET /api/analytics/ai-cost through nginx: vmsd's cost report, for admins only."""
import requests


def test_ai_cost_is_admin_only(stack):
    conf = "[vmsd]\nlisten = 127.0.0.1:@API_PORT@\nrecordings = @RECORDINGS@\nspool_dir = @STATE@/spool\n"
    v = stack.vmsd(text=conf)
    ngx = stack.nginx(vars={"VMSD_API": f"127.0.0.1:{v.port}"})
    url = ngx.url("/api/analytics/ai-cost")

    assert requests.get(url, timeout=5).status_code == 401
    viewer = {"Authorization": "Bearer " + stack.service_token("u-viewer", role="viewer", tenant_id="t1")}
    assert requests.get(url, headers=viewer, timeout=5).status_code == 403

    admin = {"Authorization": "Bearer " + stack.service_token("u-admin", role="admin", tenant_id="t1")}
    r = requests.get(url, headers=admin, timeout=5)
    assert r.status_code == 200, r.text
    direct = requests.get(v.api + "/api/analytics/ai-cost", headers=admin, timeout=5)
    assert r.json() == direct.json()
    assert requests.post(url, headers=admin, timeout=5).status_code == 403
