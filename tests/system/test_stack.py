"""Foundation: the peers the other tests rely on behave like the real thing."""
import glob
import os
import subprocess

import psycopg
import pytest
from confluent_kafka import Producer

import vmsstack
from helpers import consume

MODULES = ("auth", "limit", "log", "playback")


def test_nginx_loads_all_three_modules(stack, build_dir):
    built = sorted(os.path.basename(p) for p in glob.glob(os.path.join(build_dir, "modules", "*.so")))
    assert built == [f"ngx_http_vms_{m}_module.so" for m in MODULES]
    r = stack.nginx_test()
    assert r.returncode == 0, r.stderr
    prefix, conf, _ = stack.nginx_conf("nginx-t")
    with open(conf) as f:
        text = f.read()
    for m in MODULES:
        assert f"ngx_http_vms_{m}_module.so;" in text


def test_nginx_serves_health(stack):
    ngx = stack.nginx()
    status, body = vmsstack.http_get(ngx.url("/health"))
    assert status == 200 and b'"ok"' in body


def test_broken_nginx_config_is_refused(stack):
    r = stack.nginx_test(vars={"EXTRA_SERVER": "vms_no_such_directive on;"})
    assert r.returncode != 0
    assert 'unknown directive "vms_no_such_directive"' in r.stderr


def test_kafka_broker_round_trip_with_kcat(stack):
    k = stack.kafka()
    p = Producer({"bootstrap.servers": k.bootstrap, "enable.idempotence": True})
    p.produce("vms.events", key=b"cam1", value=b'{"type":"probe"}')
    assert p.flush(10) == 0
    r = subprocess.run(["kcat", "-b", k.bootstrap, "-t", "vms.events", "-C", "-e", "-o", "beginning",
                        "-f", "%k=%s\n"], capture_output=True, text=True, timeout=30)
    assert 'cam1={"type":"probe"}' in r.stdout


def test_kafka_broker_outage_keeps_messages_queued(stack):
    """A producer keeps messages while the broker is down and delivers them after: none lost, none twice."""
    k = stack.kafka()
    p = Producer({"bootstrap.servers": k.bootstrap, "enable.idempotence": True,
                  "message.timeout.ms": 60000})
    p.produce("vms.events", key=b"cam1", value=b"before")
    assert p.flush(10) == 0
    k.down()                        # returns once the broker is down
    for i in range(5):
        p.produce("vms.events", key=b"cam1", value=f"during-{i}".encode())
    assert p.flush(2) == 5          # still queued: the broker is down
    k.up()
    assert p.flush(30) == 0
    got = [v for _, v in consume(k.bootstrap, "vms.events", 6)]
    assert got == [b"before"] + [f"during-{i}".encode() for i in range(5)]


def test_postgres_runs_with_schema(stack):
    pg = stack.postgres()
    with psycopg.connect(pg.dsn) as c:
        tables = {r[0] for r in c.execute("select tablename from pg_tables where schemaname='public'")}
    assert {"cameras", "recordings"} <= tables


def test_stop_leaves_no_process(stack):
    stack.redis()
    stack.kafka()
    pids = list(stack.pids().values())
    assert len(pids) == 2
    stack.stop()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_templates_render_without_the_default_lines():
    """Every conf template renders with its `# @default` lines gone whole (no blank line left)."""
    root = os.environ.get("VMS_ROOT", os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    templates = glob.glob(os.path.join(root, "conf", "**", "*.in"), recursive=True)
    assert templates
    for path in templates:
        with open(path) as f:
            text = f.read()
        defaults = vmsstack.DEFAULT_LINE.findall(text)
        values = {n: "x" for n in vmsstack.PLACEHOLDER.findall(text)}
        out = vmsstack.render(text, values, path)
        assert len(out.splitlines()) == len(text.splitlines()) - len(defaults), path
