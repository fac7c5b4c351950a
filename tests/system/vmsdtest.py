"""Helpers for the vmsd system tests (test_vmsd*.py): config text, log lines,
metrics, and a Kafka consumer that collects vmsd's events."""
import json
import re
import time

from confluent_kafka import Consumer

import vmsstack

# Scaled-down intervals: same logic as production, test-sized numbers.
FAST = {
    "backoff": "100ms,200ms,400ms",
    "backoff_jitter": "0",
    "max_attempts": "10",
    "probe_interval": "300ms",
    "io_timeout": "2s",
    "healthy_period": "60s",
    "watchdog_interval": "200ms",
    "frozen_timeout": "1500ms",
    "still_timeout": "1500ms",
    "snapshot_interval": "500ms",
    "snapshot_ttl": "5s",
}


def conf_text(cams, cameras, kafka=None, redis=None, pg=None, extra=None, camera_extra=None):
    """vmsd.conf for stack.vmsd(text=...): @API_PORT@, @RECORDINGS@, @STATE@ filled by the stack."""
    g = dict(FAST)
    g.update(extra or {})
    lines = ["[vmsd]", "listen = 127.0.0.1:@API_PORT@", "recordings = @RECORDINGS@",
             "spool_dir = @STATE@/spool"]
    if kafka is not None:
        lines.append(f"kafka_brokers = {kafka.bootstrap}")
    if redis is not None:
        lines.append(f"redis = {redis.addr}")
    if pg is not None:
        lines.append(f"postgres = {pg.dsn}")
    lines += [f"{k} = {v}" for k, v in g.items()]
    for cam in cameras:
        lines += ["", f"[camera {cam}]", f"url = {cams.url(cam)}"]
        for k, v in ((camera_extra or {}).get(cam) or {}).items():
            lines.append(f"{k} = {v}")
    return "\n".join(lines) + "\n"


def log_lines(svc):
    out = []
    with open(svc.log, errors="replace") as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
    return out


def metrics(svc):
    status, body = vmsstack.http_get(svc.api + "/metrics", headers=svc.auth)
    assert status == 200
    out = {}
    for line in body.decode().splitlines():
        if not line or line.startswith("#"):
            continue
        name, value = line.rsplit(" ", 1)
        out[name] = float(value)
    return out


def metric(svc, name, **labels):
    """Sum of the samples of name whose labels include the given ones."""
    total = 0.0
    for key, v in metrics(svc).items():
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?$", key)
        if not m or m.group(1) != name:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total += v
    return total


def health(svc):
    status, body = vmsstack.http_get(svc.api + "/health")
    assert status == 200
    return json.loads(body)


def camera(svc, cam):
    for c in health(svc)["cameras"]:
        if c["id"] == cam:
            return c
    return None


def wait(what, check, timeout=60.0, svc=None):
    return vmsstack.wait_for(what, check, timeout, svc.proc if svc else None, svc.log if svc else None)


class Events:
    """Reads every message of a topic from the beginning into self.all."""

    def __init__(self, bootstrap, topic="vms.events"):
        self.c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"t-{time.monotonic_ns()}",
                           "auto.offset.reset": "earliest", "enable.auto.commit": False})
        self.c.subscribe([topic])
        self.all = []

    def poll(self):
        while True:
            m = self.c.poll(0.2)
            if m is None:
                return self.all
            if m.error() is None:
                ev = json.loads(m.value())
                ev["_key"] = m.key().decode() if m.key() else None
                self.all.append(ev)

    def of(self, type_, cam=None, **fields):
        self.poll()
        return [e for e in self.all if e.get("type") == type_ and (cam is None or e.get("camera_id") == cam)
                and all(e.get(k) == v for k, v in fields.items())]

    def wait(self, type_, cam=None, n=1, timeout=60.0, svc=None, **fields):
        return wait(f"{n} x {type_} {cam or ''}", lambda: len(self.of(type_, cam, **fields)) >= n and
                    self.of(type_, cam, **fields), timeout, svc)

    def close(self):
        self.c.close()
