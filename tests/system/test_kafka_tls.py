"""Kafka over TLS (#14 item 2, docs/security.md "Transport (TLS)"): every librdkafka client of the
sidecar takes VMS_KAFKA_SECURITY_PROTOCOL=ssl and VMS_KAFKA_SSL_CA_FILE (optional client pair
VMS_KAFKA_SSL_CERT_FILE / VMS_KAFKA_SSL_KEY_FILE) through modules/common/vms_kafka_ssl.h.

Our test broker (librdkafka's mock cluster) has no TLS listener and Debian 12 ships no Kafka broker,
so what is checked here is the client side: vmsd told to speak TLS to a plain broker says the
handshake failed, reports Kafka unreachable, and keeps its events in the spool (docs/events.md)."""
import json
import re
import subprocess

import vmsstack
from vmsdtest import health, metric, wait


def test_vmsd_with_ssl_against_a_plain_broker_fails_the_handshake_and_spools(tls_stack):
    st = tls_stack
    k = st.kafka()
    cams = st.camsim(cameras=1)      # a camera that comes online: vmsd has events to send
    text = ("[vmsd]\nlisten = 127.0.0.1:@API_PORT@\nrecordings = @RECORDINGS@\nspool_dir = @STATE@/spool\n"
            f"kafka_brokers = {k.bootstrap}\nkafka_message_timeout = 1s\nkafka_probe_interval = 200ms\n"
            f"[camera cam1]\nurl = {cams.url('cam1')}\nrecord = false\n")
    v = st.vmsd(text=text, env={"VMS_KAFKA_SECURITY_PROTOCOL": "ssl", "VMS_KAFKA_SSL_CA_FILE": st.tls.ca})
    # librdkafka says "SSL handshake failed: Disconnected: connecting to a PLAINTEXT broker listener?"
    # or only "Disconnected", but always the state it was in
    v.wait_line(r"kafka: no broker reachable .*ssl://127\.0\.0\.1:\d+/bootstrap: .*in state SSL_HANDSHAKE", 30)
    wait("events spooled", lambda: metric(v, "vms_events_spooled_total") >= 1, 30, svc=v)
    assert metric(v, "vms_events_dropped_total") == 0
    h = health(v)
    assert h["kafka"]["connected"] is False and h["status"] == "degraded", h


def test_a_consumer_with_an_unknown_protocol_refuses_to_start(tls_stack):
    st = tls_stack
    r = subprocess.run([st.bin("vms-topics"), "--brokers", "127.0.0.1:9", "--timeout", "1s", "--file",
                        vmsstack.os.path.join(vmsstack.ROOT, "conf", "kafka", "topics.json")],
                       capture_output=True, text=True, timeout=30,
                       env=dict(st._env(), VMS_KAFKA_SECURITY_PROTOCOL="sasl_plaintext"))
    assert r.returncode != 0 and "VMS_KAFKA_SECURITY_PROTOCOL" in r.stderr + r.stdout, r.stderr


def test_nginx_audit_producer_with_ssl_against_a_plain_broker_keeps_records(tls_stack):
    """nginx's workers drop the environment: its producer takes librdkafka properties on
    vms_auth_kafka. Told to speak TLS to the plain mock broker, its audit records land in the
    fallback file (docs/auth.md), none lost."""
    from test_auth_audit import audited_requests
    from test_auth_helpers import Keys
    st = tls_stack
    k = st.kafka()
    keys = Keys(st)
    ngx = st.nginx(vars={"REDIS_ADDR": "127.0.0.1:9", "KAFKA_BROKERS": k.bootstrap,
                         "AUTH_KAFKA_PROPS": f"security.protocol=ssl ssl.ca.location={st.tls.ca}"
                                             " ssl.endpoint.identification.algorithm=https message.timeout.ms=500"})
    audited_requests(ngx, keys)
    path = vmsstack.os.path.join(ngx.prefix, "logs", "audit.jsonl")

    def actions():
        if not vmsstack.os.path.exists(path):
            return set()
        with open(path) as f:
            return {json.loads(line)["action"] for line in f if line.strip()}
    assert vmsstack.wait_for("audit fallback file", lambda: actions() == {"POST", "DELETE"} and actions(), 30)
    with open(ngx.error_log) as f:
        assert re.search(r"SSL_HANDSHAKE|SSL handshake failed", f.read())
