"""Errors nginx itself generates in the stack's server answer JSON like the modules' errors:
{"error":CODE,"message":TEXT,"status":N} (conf/nginx/nginx.conf.in; issue #20 item 9).

Natural triggers where the stack has one (a duplicate Host header, limit_except, a static file
POSTed, a body or header over the limits, a dead upstream); `return N;` locations (EXTRA_SERVER)
stand in for the statuses nothing in the stack makes nginx generate today (401, 429, 500, 503), and
an upstream that accepts but never answers gives 504."""
import socket

import pytest
import requests

from playback_fixtures import raw_exchange
from test_auth_helpers import Keys, bearer

EXTRA = """
location = /t/401 { return 401; }
location = /t/429 { return 429; }
location = /t/500 { return 500; }
location = /t/503 { return 503; }
location = /t/504 { proxy_pass http://127.0.0.1:@SILENT_PORT@; proxy_read_timeout 200ms; }
"""


@pytest.fixture
def err(stack):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)            # accepts (the kernel does) but never answers
    keys = Keys(stack)
    ngx = stack.nginx(vars={"REDIS_ADDR": "127.0.0.1:9", "KAFKA_BROKERS": "127.0.0.1:9",
                            "VMSD_API": "127.0.0.1:9",   # nothing listens: 502
                            "EXTRA_SERVER": EXTRA.replace("@SILENT_PORT@", str(silent.getsockname()[1]))})
    ngx.keys = keys
    yield ngx
    silent.close()


def raw(ngx, data):
    head, _, body = raw_exchange(ngx.port, data).partition(b"\r\n\r\n")
    return int(head.split()[1]), head.decode("latin1"), body


def assert_json_error(status, content_type, body, code, expected_status):
    import json
    assert status == expected_status, body
    assert content_type.startswith("application/json"), content_type
    doc = json.loads(body)
    assert doc["status"] == expected_status and doc["error"] == code and doc["message"]
    assert set(doc) == {"error", "message", "status"}


def check(resp, code, status):
    assert_json_error(resp.status_code, resp.headers.get("Content-Type", ""), resp.content, code, status)


def test_400_duplicate_host(err):
    status, head, body = raw(err, b"GET /index.html HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    ctype = next(l.split(":", 1)[1].strip() for l in head.split("\r\n") if l.lower().startswith("content-type"))
    assert_json_error(status, ctype, body, "bad_request", 400)


def test_401_403_404_405(err):
    check(requests.get(err.url("/t/401"), timeout=5), "unauthorized", 401)
    tok = err.keys.token(sub="a", role="viewer", camera_id="cam1")
    check(requests.post(err.url("/api/cameras"), headers=bearer(tok), timeout=5), "forbidden", 403)
    check(requests.get(err.url("/no/such/page"), timeout=5), "not_found", 404)
    check(requests.get(err.url("/api/no/such/route"), timeout=5), "not_found", 404)
    check(requests.get(err.url("/_vms/admit"), timeout=5), "not_found", 404)      # internal
    check(requests.post(err.url("/index.html"), timeout=5), "method_not_allowed", 405)


def test_413_body_and_header(err):
    check(requests.post(err.url("/api/auth/validate-stream"), data=b"{" + b" " * 20000 + b"}",
                        headers={"Content-Type": "application/json"}, timeout=5), "payload_too_large", 413)
    # a 1 MB token: over the header buffers (nginx's 494), answered 413
    check(requests.get(err.url("/api/auth/check/cam1"), headers=bearer("e" * (1 << 20)), timeout=10),
          "payload_too_large", 413)
    # a 9 KB token fits the buffers and is vms_auth's own 413 (its JSON shape)
    resp = requests.get(err.url("/api/auth/check/cam1"), headers=bearer("e" * 9000), timeout=5)
    assert resp.status_code == 413 and resp.json() == {"error": "too_large", "message": "token too large"}


def test_414_uri(err):
    check(requests.get(err.url("/api/auth/check/cam1?jwt=" + "e" * 20000), timeout=5), "uri_too_long", 414)


def test_429_500_502_503_504(err):
    check(requests.get(err.url("/t/429"), timeout=5), "too_many_requests", 429)
    check(requests.get(err.url("/t/500"), timeout=5), "internal_error", 500)
    tok = err.keys.token(sub="a", role="viewer", camera_id="cam1")
    check(requests.get(err.url("/api/cameras"), headers=bearer(tok), timeout=5), "bad_gateway", 502)
    check(requests.get(err.url("/t/503"), timeout=5), "service_unavailable", 503)
    check(requests.get(err.url("/t/504"), timeout=5), "gateway_timeout", 504)


def test_head_and_modules_own_errors_unchanged(err):
    resp = requests.head(err.url("/no/such/page"), timeout=5)
    assert resp.status_code == 404 and resp.content == b""
    # vms_auth answers its own refusals (with its challenge header)
    resp = requests.get(err.url("/api/auth/check/cam1"), timeout=5)
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"] == 'Bearer realm="vms"'
    assert resp.json() == {"error": "unauthorized", "message": "credentials required"}
    # the playback catch-all keeps its MediaMTX-shaped body
    resp = requests.get(err.url("/api/playback/bad%20id"), timeout=5)
    assert resp.status_code == 400 and resp.json()["status"] == "error"
