"""GET /api/analytics/ai-cost through nginx: vmsd's cost report, for admins only."""
import time

import jwt
import requests


def token(stack, role):
    with open(stack.secret_file()) as f:
        key = f.read().strip()
    now = int(time.time())
    return jwt.encode({"sub": f"u-{role}", "role": role, "tenant_id": "t1", "iat": now, "exp": now + 600},
                      key, algorithm="HS256")


def test_ai_cost_is_admin_only(stack):
    conf = "[vmsd]\nlisten = 127.0.0.1:@API_PORT@\nrecordings = @RECORDINGS@\nspool_dir = @STATE@/spool\n"
    v = stack.vmsd(text=conf)
    ngx = stack.nginx(vars={"VMSD_API": f"127.0.0.1:{v.port}"})
    url = ngx.url("/api/analytics/ai-cost")

    assert requests.get(url, timeout=5).status_code == 401
    viewer = {"Authorization": "Bearer " + token(stack, "viewer")}
    assert requests.get(url, headers=viewer, timeout=5).status_code == 403

    admin = {"Authorization": "Bearer " + token(stack, "admin")}
    r = requests.get(url, headers=admin, timeout=5)
    assert r.status_code == 200, r.text
    direct = requests.get(v.api + "/api/analytics/ai-cost", headers=admin, timeout=5)
    assert r.json() == direct.json()
    assert requests.post(url, headers=admin, timeout=5).status_code == 403
