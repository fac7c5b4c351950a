"""Redis over TLS (#14 item 2, docs/security.md "Transport (TLS)"): with Stack(tls=True) Redis listens
only on its `tls-port` and asks every client for a certificate of the stack's CA (mutual TLS); nginx
(vms_limit, vms_auth), vmsd and vms-login speak plain Redis protocol to stunnel4 in client mode on
loopback, which verifies Redis' certificate (CA and name `redis`) and presents the host's.

Checked as a user would: redis-cli --tls with the CA (and without a client certificate, with a wrong
CA, in plain text), a stream lease taken by nginx and vmsd's camera status landing in Redis through
the tunnel, a tunnel that trusts another CA: stunnel logs the failed verification and nginx follows
the Redis outage policy `local` (docs/limit.md), and a tunnel refusing Redis under another host name or
with an expired certificate (loaded by CONFIG SET, as a rotation is)."""
import re
import subprocess

import requests

import vmsstack
from test_auth_helpers import Keys
from test_stream_leases import ask, held, redis_connected
from helpers import redis_cli


def tls_cli(st, r, *args, ca=None, cert="nginx"):
    tls = ["--tls", "--cacert", ca or st.tls.ca]
    if cert:
        tls += ["--cert", st.tls.crt(cert), "--key", st.tls.key(cert)]
    return subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(r.tls_port), *tls, *args],
                          capture_output=True, text=True, timeout=30)


def other_ca(tmp_path):
    c = vmsstack.Certs(str(tmp_path / "other"))
    c.issue("nginx")
    return c.ca


def test_redis_only_over_mutual_tls_verified_with_the_ca(tls_stack, tmp_path):
    st = tls_stack
    r = st.redis()
    ok = tls_cli(st, r, "PING")
    assert ok.stdout.strip() == "PONG", ok.stderr
    # a client that trusts another CA refuses Redis' certificate
    wrong = tls_cli(st, r, "PING", ca=other_ca(tmp_path))
    assert "PONG" not in wrong.stdout and "certificate verify failed" in wrong.stdout + wrong.stderr
    # Redis refuses a client without a certificate (tls-auth-clients yes)
    anon = tls_cli(st, r, "PING", cert=None)
    assert "PONG" not in anon.stdout, anon.stdout
    # plain text to the TLS port: no answer, and Redis says why
    plain = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(r.tls_port), "PING"],
                           capture_output=True, text=True, timeout=30)
    assert "PONG" not in plain.stdout
    r.wait_line(r"Error accepting a client connection: .*wrong version number", 15)


def test_nginx_and_vmsd_reach_redis_through_the_tunnel(tls_stack):
    st = tls_stack
    r = st.redis()
    keys = Keys(st)
    ngx = st.nginx(vars={"REDIS_ADDR": r.addr, "KAFKA_BROKERS": "127.0.0.1:9", "AUTH_KEYS": keys.nginx_lines()})
    ngx.keys, ngx.redis = keys, r
    redis_connected(ngx)
    tok = keys.token("HS256", sub="u-tls", plan="free", role="viewer", camera_id="cam1")
    assert ask(ngx, token=tok, id="reader-tls").status_code == 200
    assert held(ngx, "u-tls") == ["reader-tls"]      # redis-cli reads it through the tunnel too

    v = st.vmsd(text=VMSD_CONF.format(redis=r.addr))
    status = vmsstack.wait_for("vmsd's camera status in Redis",
                               lambda: redis_cli(r, "GET", "vms:camera:cam1:status"), 30, v.proc, v.log)
    assert status in ("connecting", "reconnecting", "offline"), status
    # every client Redis sees came over TLS from the tunnel (no plain listener exists: port 0)
    assert redis_cli(r, "CONFIG", "GET", "port").split() == ["port", "0"]


def test_tunnel_with_a_wrong_ca_nginx_follows_the_local_policy(tls_stack, tmp_path):
    st = tls_stack
    r = st.redis()
    bad = st.redis_tunnel(r, name="redis-stunnel-wrong-ca", ca=other_ca(tmp_path))
    keys = Keys(st)
    ngx = st.nginx(vars={"REDIS_ADDR": bad.addr, "KAFKA_BROKERS": "127.0.0.1:9", "AUTH_KEYS": keys.nginx_lines()})
    tok = keys.token("HS256", sub="u-wrong", plan="free", role="viewer", camera_id="cam1")
    # policy `local`: this node's zone admits; nothing reaches Redis
    assert ask(ngx, token=tok, id="reader-1").status_code == 200
    bad.wait_line(r"certificate verify failed", 15)

    def fallback():
        text = requests.get(ngx.url("/metrics/limit"), timeout=5).text
        m = re.search(r'^vms_limit_fallback_total\{policy="local"\} (\d+)', text, re.M)
        return m and int(m.group(1)) >= 1
    vmsstack.wait_for("vms_limit fallback counted", fallback, 15)
    assert redis_cli(r, "KEYS", "vms:leases:*") == ""


VMSD_CONF = """[vmsd]
listen = 127.0.0.1:@API_PORT@
recordings = @RECORDINGS@
spool_dir = @STATE@/spool
redis = {redis}
backoff = 1s,2s
backoff_jitter = 0

[camera cam1]
url = rtsp://127.0.0.1:9/camera/cam1
record = false
"""


def test_tunnel_refuses_a_wrong_host_name_and_an_expired_certificate(tls_stack):
    """The tunnel is what checks Redis for nginx and vmsd: a certificate of the right CA for another
    name, or one that has expired, is refused, and nothing passes through."""
    st = tls_stack
    r = st.redis()
    other = st.redis_tunnel(r, name="redis-stunnel-wrong-name", check_host="not-redis")
    assert "PONG" not in through(other)
    other.wait_line(r"CERT: Subject checks failed", 15)
    # Redis' certificate replaced by one issued two years back for 30 days (expired on any date the
    # test runs) and loaded with CONFIG SET, as a rotation would be: new handshakes are refused
    st.tls.issue("redis", days=30, renew=True, clock="-2y")
    assert redis_cli(r, "CONFIG", "SET", "tls-cert-file", st.tls.crt("redis"),
                     "tls-key-file", st.tls.key("redis")) == "OK"
    assert "PONG" not in through(r.tunnel)
    r.tunnel.wait_line(r"certificate has expired", 15)
    cli = tls_cli(st, r, "PING")
    assert "PONG" not in cli.stdout and "certificate verify failed" in cli.stderr, cli.stdout + cli.stderr
    sc = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{r.tls_port}", "-CAfile", st.tls.ca,
                         "-verify_return_error", "-cert", st.tls.crt("nginx"), "-key", st.tls.key("nginx")],
                        input="", capture_output=True, text=True, timeout=30)
    assert sc.returncode != 0 and "certificate has expired" in sc.stdout + sc.stderr, sc.stdout + sc.stderr


def through(tunnel):
    """PING sent in plain text to the tunnel's loopback end: PONG only if the TLS side came up."""
    r = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(tunnel.port), "PING"],
                       capture_output=True, text=True, timeout=30)
    return r.stdout
