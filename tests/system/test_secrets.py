"""Secrets (docs/security.md "Secrets"): from NAME_FILE variables and from AWS Secrets Manager
(aws-sm:ID[#KEY], GetSecretValue signed with SigV4 and checked by botocore in
tests/tools/fake_secretsmanager.py), rotated on SIGHUP, and never on a command line, in a log or
in an event."""
import base64
import glob
import json
import os
import re
import signal
import socket
import subprocess

import jwt
import logscan
import requests
from confluent_kafka import Consumer

import vmsstack
from vmsdtest import FAST, health, wait

AK = "AKIDVMSTEST0SECRETS"
SK = "sk-Wq8vZr3TtY2uN5pL0aXe7Bc9Df1Gh4Jk"          # the AWS secret access key
PG_PW = "pg-Zx4Vb7Nm1Qw3Er6Ty9Ui2Op5"
REDIS_PW = "redis-Lk8Jh5Gf2Ds4Aq7Wm1Nb3Vc6"
JWT_KEY = "jwt-Hg5Fd3Sa1Pl9Ok7Ij2Uh4Yg6Tf8Rd0Es"
JWT_KEY2 = "jwt-rotated-Mn4Bv6Cx8Zq1Wa3Se5Dr7Ft9"


def write_secret(stack, name, value):
    path = os.path.join(stack.path("secrets"), name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")              # as `echo` writes it: one newline, trimmed
    return path


def aws_env(sm, secret_key_file):
    return {"AWS_REGION": "eu-west-1", "VMS_AWS_SM_ENDPOINT": sm.endpoint,
            "AWS_ACCESS_KEY_ID": AK, "AWS_SECRET_ACCESS_KEY_FILE": secret_key_file}


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vmsd_text(kafka, redis, extra=(), camera=None):
    lines = ["[vmsd]", "listen = 127.0.0.1:@API_PORT@", "recordings = @RECORDINGS@",
             "spool_dir = @STATE@/spool", f"redis = {redis.addr}", *extra]
    if kafka is not None:
        lines.append(f"kafka_brokers = {kafka.bootstrap}")
    lines += [f"{k} = {v}" for k, v in FAST.items()]
    if camera:
        lines += ["", "[camera cam1]", f"url = {camera}", "max_attempts = 2"]
    return "\n".join(lines) + "\n"


def api_status(v, key):
    tok = jwt.encode({"sub": "t", "role": "admin", "exp": 4102444800}, key, algorithm="HS256")
    return requests.get(v.api + "/metrics", headers={"Authorization": f"Bearer {tok}"}, timeout=5).status_code


def connected(v):
    h = health(v)
    return h["postgres"]["connected"] and h["redis"]["connected"]


def test_secrets_from_files_and_aws_sm_rotate_and_leak_nowhere(stack):
    pg = stack.postgres(password=PG_PW)
    redis = stack.redis(password=REDIS_PW)
    kafka = stack.kafka()
    sm = stack.secretsmanager({"vms/jwt": JWT_KEY, "vms/pg": json.dumps({"dsn": pg.dsn})}, AK, SK)
    sk_file = write_secret(stack, "aws_secret_key", SK)
    env = dict(aws_env(sm, sk_file),
               VMS_PG_CONNINFO_FILE="aws-sm:vms/pg#dsn",
               VMS_REDIS_PASSWORD_FILE=write_secret(stack, "redis_password", REDIS_PW))
    # a camera that never answers, its credentials in the URL: vmsd emits camera.offline
    cam = f"rtsp://admin:{PG_PW}@127.0.0.1:{closed_port()}/cam1"
    v = stack.vmsd(text=vmsd_text(kafka, redis, ["api_token_secret_file = aws-sm:vms/jwt"], cam), env=env)
    wait("postgres and redis connected", lambda: connected(v), 30, svc=v)
    seen = sm.requests()
    assert {r["secret_id"] for r in seen} == {"vms/jwt", "vms/pg"}
    assert all(r["sig_ok"] and r["status"] == 200 for r in seen), seen
    assert api_status(v, JWT_KEY) == 200
    assert api_status(v, JWT_KEY2) == 401

    # rotation: the new key in Secrets Manager, SIGHUP, the new key is the one that works
    sm.rotate({"vms/jwt": JWT_KEY2})
    v.signal(signal.SIGHUP)
    wait("rotated API key", lambda: api_status(v, JWT_KEY2) == 200, 30, svc=v)
    assert api_status(v, JWT_KEY) == 401
    assert len([r for r in sm.requests() if r["secret_id"] == "vms/jwt" and r["sig_ok"]]) == 2

    # another sidecar: vms-review-api's DSN from VMS_PG_DSN_FILE, once a file, once aws-sm:
    dsn_file = write_secret(stack, "pg_dsn", pg.dsn)
    for name, ref in (("review-api-file", dsn_file), ("review-api-sm", "aws-sm:vms/pg#dsn")):
        port = vmsstack.free_port()
        api = stack._start(name, [stack.bin("vms-review-api"), "--listen", f"127.0.0.1:{port}"],
                           env=dict(stack._env(), **aws_env(sm, sk_file), VMS_PG_DSN_FILE=ref))
        api.wait_line(r"review-api: ready on", 30)
        r = requests.get(f"http://127.0.0.1:{port}/api/events", headers={"X-VMS-Cameras": "*"}, timeout=10)
        assert r.status_code == 200, r.text      # it queried PostgreSQL with the password

    events = []
    c = Consumer({"bootstrap.servers": kafka.bootstrap, "group.id": "t-secrets",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe(["vms.events"])

    def offline_seen():
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            events.append(m.value())
        return any(b"camera.offline" in e for e in events)
    try:
        wait("camera.offline", offline_seen, 30, svc=v)
    finally:
        c.close()

    # no secret anywhere: every log of the run, every harness process's argv, every event
    values = [SK, PG_PW, REDIS_PW, JWT_KEY, JWT_KEY2]
    needles = [x.encode() for x in values] + [base64.b64encode(x.encode()) for x in values]
    logs = [os.path.join(dp, f) for dp, _, fs in os.walk(stack.work) for f in fs
            if logscan.is_log(os.path.join(dp, f))]      # what the teardown scan calls a log
    assert os.path.join(stack.logs, "vmsd.log") in logs
    blobs = {p: open(p, "rb").read() for p in logs}
    pids = set()
    for svc in stack.services:
        pids.add(svc.pid)
        for d in glob.glob(f"/proc/{svc.pid}/task/*/children"):
            pids.update(int(p) for p in open(d).read().split())   # postgres' backends, ...
    for pid in pids:
        try:
            blobs[f"/proc/{pid}/cmdline"] = open(f"/proc/{pid}/cmdline", "rb").read()
        except FileNotFoundError:
            pass
    blobs.update({f"event {i}": e for i, e in enumerate(events)})
    with open(sk_file, "rb") as f:
        assert needles[0] in f.read()              # the search finds a secret where one is
    assert len(blobs) > len(logs) + 5
    for where, blob in blobs.items():
        for n in needles:
            assert n not in blob, f"a secret in {where}"


def test_refusals_name_the_problem_without_the_value(stack):
    redis = stack.redis()
    sm = stack.secretsmanager({"vms/jwt": JWT_KEY}, AK, SK)
    wrong = "sk-Wrong0Key9For8The7Test6Only5"
    cases = [
        # a wrong AWS secret key: AWS (the fake) denies the signature
        (dict(aws_env(sm, write_secret(stack, "wrong_key", wrong))), ["api_token_secret_file = aws-sm:vms/jwt"],
         r"api_token_secret_file.*aws-sm:vms/jwt: GetSecretValue answered HTTP 400 AccessDeniedException"),
        # an id Secrets Manager does not have
        (dict(aws_env(sm, write_secret(stack, "right_key", SK))), ["api_token_secret_file = aws-sm:vms/nope"],
         r"aws-sm:vms/nope: GetSecretValue answered HTTP 400 ResourceNotFoundException"),
        # NAME and NAME_FILE both set
        ({"VMS_REDIS_PASSWORD": REDIS_PW, "VMS_REDIS_PASSWORD_FILE": write_secret(stack, "rp", REDIS_PW)}, [],
         r"both VMS_REDIS_PASSWORD and VMS_REDIS_PASSWORD_FILE are set"),
    ]
    for i, (env, extra, line) in enumerate(cases):
        v = stack.vmsd(text=vmsd_text(None, redis, extra), env=env, name=f"vmsd-{i}", wait=False)
        assert v.proc.wait(30) == 2
        out = v.output()
        assert re.search(line, out), out
        assert wrong not in out and SK not in out and REDIS_PW not in out and JWT_KEY not in out
    bad = [r for r in sm.requests() if not r["sig_ok"]]
    assert len(bad) == 1 and bad[0]["status"] == 400
    with open(os.path.join(stack.logs, "fake-secretsmanager.log")) as f:
        assert "signature rejected: signature mismatch" in f.read()


def test_vms_limit_redis_password_file(stack):
    """nginx's vms_limit takes the Redis password from a file too, and password_env=NAME honours
    NAME_FILE (the shared reader)."""
    mod = os.path.join(stack.build, "modules", "ngx_http_vms_limit_module.so")
    d = stack.path("nginx-limit")
    pw = write_secret(stack, "limit_redis_password", REDIS_PW)
    results = []
    cases = ((f"password_file={pw}", {}), (f"password_file={pw}.missing", {}),
             ("password_env=T_REDIS_PW", {"T_REDIS_PW_FILE": pw}),                  # NAME_FILE
             ("password_env=T_REDIS_PW", {"T_REDIS_PW_FILE": pw, "T_REDIS_PW": REDIS_PW}))
    for arg, env in cases:
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"load_module {mod};\npid {d}/nginx.pid;\nevents {{}}\n"
                    f"http {{ vms_limit_redis 127.0.0.1:{closed_port()} {arg}; }}\n")
        results.append(subprocess.run(["nginx", "-t", "-p", d, "-c", conf, "-e", os.path.join(d, "error.log")],
                                      capture_output=True, text=True, env=dict(stack._env(True), **env)))
    assert results[0].returncode == 0, results[0].stderr
    assert results[1].returncode != 0
    assert f'vms_limit_redis: password_file: cannot read "{pw}.missing"' in results[1].stderr
    assert results[2].returncode == 0, results[2].stderr
    assert results[3].returncode != 0
    assert "both T_REDIS_PW and T_REDIS_PW_FILE are set" in results[3].stderr
    assert all(REDIS_PW not in r.stderr for r in results)
