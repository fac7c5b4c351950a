"""Transport security (#14 item 2, docs/security.md "Transport (TLS)"): auto/certs.sh, nginx HTTPS with
HTTP/2, PostgreSQL over TLS for vmsd, certificate rotation under a live download, `run --tls`.

Every handshake is checked as a user would: python's ssl, `openssl s_client -verify_return_error`,
curl, psql and vmsd itself. The expired certificate is issued by auto/certs.sh under faketime two
years back for 30 days: expired on any date the test runs."""
import hashlib
import http.client
import os
import re
import socket
import ssl
import stat
import subprocess

import psycopg
import pytest
import requests

import vmsstack

ROOT = vmsstack.ROOT
SERVICES = ("nginx", "postgres", "redis", "vmsd", "kafka")


def der_sha256(pem_path):
    with open(pem_path) as f:
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).hexdigest()


def handshake(port, ca, name="127.0.0.1"):
    """Python's ssl client: (TLS version, sha256 of the server's certificate) or the ssl error."""
    ctx = vmsstack.tls_context(ca)
    with socket.create_connection(("127.0.0.1", port), 5) as raw:
        with ctx.wrap_socket(raw, server_hostname=name) as s:
            return s.version(), hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()


def s_client(port, ca, name="localhost"):
    return subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", name,
                           "-verify_hostname", name, "-CAfile", ca, "-verify_return_error"],
                          input="", capture_output=True, text=True, timeout=30)


def curl(url, ca, *args):
    return subprocess.run(["curl", "-sS", "--cacert", ca, *args, url], capture_output=True, text=True, timeout=30)


def other_ca(tmp_path):
    """A CA of its own (auto/certs.sh in another directory): trusts nothing of the stack's."""
    c = vmsstack.Certs(str(tmp_path / "other"))
    c.issue("nginx")
    return c.ca


def test_certs_script_makes_a_ca_and_service_certificates_and_keeps_them(tmp_path):
    c = vmsstack.Certs(str(tmp_path / "tls"))
    out = c.issue()
    assert re.search(r"^certs: ca +issued", out, re.M), out
    for s in SERVICES:
        assert re.search(rf"^certs: {s} +issued", out, re.M), out
        assert stat.S_IMODE(os.stat(c.key(s)).st_mode) == 0o600
        v = subprocess.run(["openssl", "verify", "-CAfile", c.ca, "-purpose", "sslserver", c.crt(s)],
                           capture_output=True, text=True)
        assert v.returncode == 0, v.stdout + v.stderr
        text = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", c.crt(s)],
                              capture_output=True, text=True).stdout
        compose = {"nginx": "vms", "vmsd": "vms"}.get(s, s)
        for san in (f"DNS:{s}", f"DNS:{compose}", "DNS:localhost", "IP Address:127.0.0.1",
                    "IP Address:0:0:0:0:0:0:0:1"):
            assert san in text, (s, text)
    assert stat.S_IMODE(os.stat(os.path.join(c.dir, "ca.key")).st_mode) == 0o600
    before = {f: open(os.path.join(c.dir, f), "rb").read() for f in os.listdir(c.dir)}

    # again: nothing reissued, not a byte changed
    out = c.issue()
    assert "issued" not in out and out.count("kept") == 6, out
    assert {f: open(os.path.join(c.dir, f), "rb").read() for f in os.listdir(c.dir)} == before

    # a missing key and --renew reissue just those; the CA stays
    os.unlink(c.key("redis"))
    out = c.issue()
    assert re.findall(r"^certs: (\S+) +issued", out, re.M) == ["redis"], out
    out = c.issue("nginx", renew=True)
    assert re.findall(r"^certs: (\S+) +issued", out, re.M) == ["nginx"], out
    assert open(c.ca, "rb").read() == before["ca.crt"]
    assert open(c.crt("nginx"), "rb").read() != before["nginx.crt"]
    assert open(c.crt("vmsd"), "rb").read() == before["vmsd.crt"]

    # an expired certificate (issued two years back for 30 days) is reissued by the next run
    out = c.issue("kafka", days=30, renew=True, clock="-2y")
    chk = subprocess.run(["openssl", "x509", "-noout", "-checkend", "0", "-in", c.crt("kafka")],
                         capture_output=True, text=True)
    assert chk.returncode == 1, chk.stdout      # "Certificate will expire": it has
    out = c.issue()
    assert re.findall(r"^certs: (\S+) +issued", out, re.M) == ["kafka"], out
    assert subprocess.run(["openssl", "verify", "-CAfile", c.ca, c.crt("kafka")],
                          capture_output=True).returncode == 0

    bad = subprocess.run([vmsstack.Certs.SCRIPT, str(tmp_path / "x"), "--days", "0"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--days" in bad.stderr
    bad = subprocess.run([vmsstack.Certs.SCRIPT, str(tmp_path / "x"), "mysql"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown service 'mysql'" in bad.stderr


def test_nginx_serves_https_http2_verified_with_the_ca(tls_stack):
    ngx = tls_stack.nginx()
    ca = tls_stack.tls.ca
    version, fp = handshake(ngx.https_port, ca)
    assert version in ("TLSv1.2", "TLSv1.3")
    assert fp == der_sha256(tls_stack.tls.crt("nginx"))
    assert handshake(ngx.https_port, ca, "localhost")[1] == fp

    r = s_client(ngx.https_port, ca)
    assert r.returncode == 0 and "Verify return code: 0 (ok)" in r.stdout, r.stdout + r.stderr

    # HTTP/2 by ALPN, HSTS on the pages and the APIs' answers
    r = curl(ngx.https_url("/health"), ca, "-D", "-", "-o", "/dev/null", "-w", "%{http_version}")
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith("\n2") or r.stdout.strip().endswith("2"), r.stdout
    assert r.stdout.startswith("HTTP/2 200")
    assert "strict-transport-security: max-age=31536000" in r.stdout.lower()
    r = curl(ngx.https_url("/index.html"), ca, "-D", "-", "-o", "/dev/null", "-w", "%{http_version}")
    assert r.stdout.startswith("HTTP/2 200") and "strict-transport-security: max-age=" in r.stdout.lower(), r.stdout
    r = curl(ngx.https_url("/api/auth/check/cam1"), ca, "-D", "-", "-o", "/dev/null")
    assert r.stdout.startswith("HTTP/2 401") and "strict-transport-security: max-age=" in r.stdout.lower(), r.stdout
    # TLS 1.2 only with forward-secret AEAD suites
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{ngx.https_port}", "-tls1_2",
                        "-cipher", "AES128-SHA", "-CAfile", ca], input="", capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "handshake failure" in r.stderr, r.stdout + r.stderr

    # the loopback HTTP port answers as before, without HSTS (nginx-rtmp's hooks, Prometheus)
    r = requests.get(ngx.url("/health"), timeout=5)
    assert r.status_code == 200 and "Strict-Transport-Security" not in r.headers

    # plain HTTP to the TLS port: nginx's 400, saying what happened
    r = requests.get(f"http://127.0.0.1:{ngx.https_port}/health", timeout=5)
    assert r.status_code == 400
    assert r.json() == {"error": "bad_request", "message": "The plain HTTP request was sent to HTTPS port",
                        "status": 400}


def test_nginx_refused_with_a_wrong_ca_or_host_name(tls_stack, tmp_path):
    ngx = tls_stack.nginx()
    port, ca, wrong = ngx.https_port, tls_stack.tls.ca, other_ca(tmp_path)

    with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer certificate"):
        handshake(port, wrong)
    r = s_client(port, wrong)
    assert r.returncode != 0 and "unable to get local issuer certificate" in r.stdout + r.stderr
    r = curl(ngx.https_url("/health"), wrong)
    assert r.returncode == 60, r.stderr

    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        handshake(port, ca, "wrong.example")
    r = s_client(port, ca, "wrong.example")
    assert r.returncode != 0 and "hostname mismatch" in (r.stdout + r.stderr).lower(), r.stdout + r.stderr
    r = curl(f"https://wrong.example:{port}/health", ca, "--resolve", f"wrong.example:{port}:127.0.0.1")
    assert r.returncode == 60 and "wrong.example" in r.stderr, r.stderr


def test_nginx_with_an_expired_certificate_is_refused(tls_stack):
    certs = tls_stack.tls
    out = certs.issue("nginx", days=30, renew=True, clock="-2y")
    assert "certs: nginx    issued" in out
    ngx = tls_stack.nginx()
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate has expired"):
        handshake(ngx.https_port, certs.ca)
    r = s_client(ngx.https_port, certs.ca)
    assert r.returncode != 0 and "certificate has expired" in r.stdout + r.stderr, r.stdout + r.stderr
    r = curl(ngx.https_url("/health"), certs.ca)
    assert r.returncode == 60 and "expired" in r.stderr, r.stderr


def test_postgres_only_over_tls_verified_with_the_ca(tls_stack, tmp_path):
    pg = tls_stack.postgres()
    ca = tls_stack.tls.ca
    base = f"host=127.0.0.1 port={pg.port} dbname=vms user=postgres"
    assert "sslmode=verify-full" in pg.dsn and f"sslrootcert={ca}" in pg.dsn

    def psql(dsn):
        return subprocess.run(["psql", "-X", "-At", dsn, "-c",
                               "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"],
                              capture_output=True, text=True, timeout=30)

    r = psql(f"{base} sslmode=verify-full sslrootcert={ca}")
    assert r.returncode == 0 and r.stdout.strip() in ("t|TLSv1.3", "t|TLSv1.2"), r.stdout + r.stderr
    r = psql(f"host=localhost port={pg.port} dbname=vms user=postgres sslmode=verify-full sslrootcert={ca}")
    assert r.returncode == 0 and r.stdout.startswith("t|"), r.stderr
    r = psql(f"{base} sslmode=verify-full sslrootcert={other_ca(tmp_path)}")
    assert r.returncode != 0 and "certificate verify failed" in r.stderr, r.stderr
    r = psql(f"host=wrong.example hostaddr=127.0.0.1 port={pg.port} dbname=vms user=postgres"
             f" sslmode=verify-full sslrootcert={ca}")
    assert r.returncode != 0 and 'does not match host name "wrong.example"' in r.stderr, r.stderr
    r = psql(f"{base} sslmode=disable")
    assert r.returncode != 0 and "no encryption" in r.stderr, r.stderr

    # rotation: a reissued certificate is served after SIGHUP, to clients that verify it
    def served():
        r = subprocess.run(["openssl", "s_client", "-starttls", "postgres", "-connect", f"127.0.0.1:{pg.port}"],
                           input="", capture_output=True, text=True, timeout=30)
        pem = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", r.stdout, re.S)
        return pem and hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem.group(0))).hexdigest()
    assert served() == der_sha256(tls_stack.tls.crt("postgres"))
    tls_stack.tls.issue("postgres", renew=True)
    new = der_sha256(tls_stack.tls.crt("postgres"))
    pg.reload_tls()
    vmsstack.wait_for("postgres serves the new certificate", lambda: served() == new, 30, pg.proc, pg.log)
    r = psql(f"{base} sslmode=verify-full sslrootcert={ca}")
    assert r.returncode == 0 and r.stdout.startswith("t|"), r.stderr


VMSD_CONF = """[vmsd]
listen = 127.0.0.1:@API_PORT@
recordings = @RECORDINGS@
spool_dir = @STATE@/spool
postgres = {dsn}
backoff = 1s,2s
backoff_jitter = 0

[camera cam1]
url = rtsp://127.0.0.1:9/camera/cam1
record = true
"""


def test_vmsd_writes_its_camera_rows_over_tls_and_refuses_a_wrong_ca(tls_stack, tmp_path):
    pg = tls_stack.postgres()
    v = tls_stack.vmsd(text=VMSD_CONF.format(dsn=pg.dsn))

    def row():
        with psycopg.connect(pg.dsn) as c:
            return c.execute("SELECT enabled, record FROM cameras WHERE id = 'cam1'").fetchone()
    assert vmsstack.wait_for("cameras row", row, 60, v.proc, v.log) == (True, True)
    with psycopg.connect(pg.dsn) as c:
        ssl_of_vmsd = c.execute("SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)"
                                " WHERE a.application_name = 'vmsd'").fetchall()
    assert ssl_of_vmsd and all(s for (s,) in ssl_of_vmsd), ssl_of_vmsd

    # the same vmsd configured with a CA that did not sign PostgreSQL's certificate never connects
    wrong = pg.dsn.replace(tls_stack.tls.ca, other_ca(tmp_path))
    w = tls_stack.vmsd(text=VMSD_CONF.format(dsn=wrong), name="vmsd-wrong-ca")
    w.wait_line(r"postgres: cannot connect .*certificate verify failed", 60)
    health = requests.get(w.api + "/health", timeout=5).json()
    assert health["postgres"]["connected"] is False and health["postgres"]["queued"] >= 1, health


VMSD_PLAIN_CONF = """[vmsd]
listen = 127.0.0.1:@API_PORT@
recordings = @RECORDINGS@
spool_dir = @STATE@/spool
{tls}
[camera cam1]
url = rtsp://127.0.0.1:9/camera/cam1
record = false
"""


def test_vmsd_api_over_tls_verified_by_clients_and_nginx(tls_stack, tmp_path):
    st = tls_stack
    ca, wrong = st.tls.ca, other_ca(tmp_path)
    v = st.vmsd(text=VMSD_PLAIN_CONF.format(tls=""), tls=True)
    assert v.api.startswith("https://")
    v.wait_line(r"http: API on https://127\.0\.0\.1:", 10)
    # verified with the CA under the names the certificate carries
    for name in ("127.0.0.1", "localhost"):
        version, _ = handshake(v.port, ca, name)
        assert version in ("TLSv1.2", "TLSv1.3"), version
    r = curl(f"{v.api}/health", ca)
    assert r.returncode == 0 and '"status"' in r.stdout, r.stderr
    # refused: another CA, another host name, TLS 1.1, plain HTTP on the TLS port
    with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer certificate"):
        handshake(v.port, wrong)
    r = s_client(v.port, wrong)
    assert r.returncode != 0 and "unable to get local issuer certificate" in r.stdout + r.stderr
    r = s_client(v.port, ca, "wrong.example")
    assert r.returncode != 0 and "hostname mismatch" in (r.stdout + r.stderr).lower(), r.stdout + r.stderr
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{v.port}", "-tls1_1", "-CAfile", ca],
                       input="", capture_output=True, text=True, timeout=30)
    assert r.returncode != 0, r.stdout
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        vmsstack.http_get(f"http://127.0.0.1:{v.port}/health", timeout=5)
    assert v.alive()

    # nginx reaches the API over TLS, verifying vmsd's certificate with the CA (camera list)
    ngx = st.nginx(vars={"VMSD_API": f"127.0.0.1:{v.port}", "VMSD_CA": ca}, name="nginx-vmsd-tls")
    auth = {"Authorization": f"Bearer {st.service_token('tls-admin')}"}
    r = requests.get(ngx.url("/api/cameras"), headers=auth, timeout=10)
    assert r.status_code == 200 and [c["id"] for c in r.json()["cameras"]] == ["cam1"], r.text
    # the same nginx trusting another CA refuses to talk to vmsd: 502, and its log says why
    bad = st.nginx(vars={"VMSD_API": f"127.0.0.1:{v.port}", "VMSD_CA": wrong}, name="nginx-vmsd-wrong-ca")
    r = requests.get(bad.url("/api/cameras"), headers=auth, timeout=10)
    assert r.status_code == 502 and r.json()["error"] == "bad_gateway", r.text
    vmsstack.wait_for("nginx's verify error", lambda: "upstream SSL certificate verify error"
                      in open(bad.error_log).read(), 10)


def test_vmsd_api_with_an_expired_certificate_is_refused(tls_stack, tmp_path):
    old = vmsstack.Certs(str(tmp_path / "old"))
    old.issue("vmsd", days=30, clock="-2y")
    tls = f"api_tls_cert_file = {old.crt('vmsd')}\napi_tls_key_file = {old.key('vmsd')}\n"
    v = tls_stack.vmsd(text=VMSD_PLAIN_CONF.format(tls=tls), wait=False)
    v.wait_line(r"http: API on https://", 30)
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate has expired"):
        handshake(v.port, old.ca)
    r = s_client(v.port, old.ca)
    assert r.returncode != 0 and "certificate has expired" in r.stdout + r.stderr, r.stdout + r.stderr


def test_rotated_certificate_served_after_reload_without_dropping_a_download(tls_stack):
    big = tls_stack.path("big")
    data = os.urandom(64 << 20)       # far more than the socket buffers hold while we do not read
    with open(os.path.join(big, "clip.bin"), "wb") as f:
        f.write(data)
    ngx = tls_stack.nginx(vars={"EXTRA_SERVER": f"location /tls-test/ {{ vms_limit_rate off; "
                                                f"vms_limit_fail_rate off; alias {big}/; }}"})
    certs = tls_stack.tls
    old = der_sha256(certs.crt("nginx"))

    conn = http.client.HTTPSConnection("127.0.0.1", ngx.https_port, context=vmsstack.tls_context(certs.ca),
                                       timeout=30)
    conn.request("GET", "/tls-test/clip.bin")
    resp = conn.getresponse()
    assert resp.status == 200 and int(resp.getheader("Content-Length")) == len(data)
    assert hashlib.sha256(conn.sock.getpeercert(binary_form=True)).hexdigest() == old
    got = resp.read(1 << 20)

    out = certs.issue("nginx", renew=True)
    assert "certs: nginx    issued" in out
    new = der_sha256(certs.crt("nginx"))
    assert new != old
    ngx.reload()
    # new connections get the new certificate once the new workers run
    vmsstack.wait_for("new certificate served", lambda: handshake(ngx.https_port, certs.ca)[1] == new,
                      30, ngx.proc, ngx.error_log)
    r = curl(ngx.https_url("/health"), certs.ca, "-w", "%{http_version}", "-o", "/dev/null")
    assert r.returncode == 0 and r.stdout == "2", r.stdout + r.stderr

    # the download begun before the reload ends whole, on the old certificate's connection
    got += resp.read()
    conn.close()
    assert len(got) == len(data) and got == data


def test_run_tls_serves_https_and_vmsd_reaches_postgres_over_tls(tmp_path, build_dir):
    ports = {k: str(vmsstack.free_port()) for k in
             ("VMS_HTTP_PORT", "VMS_HTTPS_PORT", "VMS_RTMP_PORT", "VMS_API_PORT", "VMS_CAMSIM_PORT",
              "VMS_CAMSIM_CONTROL_PORT", "VMS_REDIS_PORT", "VMS_PG_PORT", "VMS_PROMETHEUS_PORT",
              "VMS_ALERTMANAGER_PORT", "VMS_PUSH_PORT", "VMS_REVIEW_API_PORT", "VMS_LOGIN_PORT",
              "VMS_REDIS_TLS_PORT")}
    var = tmp_path / "var"
    env = dict(os.environ, VMS_VAR_DIR=str(var), VMS_CAMERAS="1", **ports)
    run = ["/usr/bin/python3", os.path.join(ROOT, "tests/tools/vmsstack.py")]
    try:
        up = subprocess.run(run + ["run", "--build", build_dir, "--detach", "--tls"], env=env,
                            capture_output=True, text=True, timeout=240)
        assert up.returncode == 0, up.stderr + up.stdout
        ca = str(var / "tls" / "ca.crt")
        https = f"https://localhost:{ports['VMS_HTTPS_PORT']}"
        assert f"mosaic     {https}/" in up.stdout and ca in up.stdout, up.stdout
        r = curl(https + "/", ca, "-o", "/dev/null", "-w", "%{http_code} %{http_version}")
        assert r.stdout == "200 2", r.stdout + r.stderr
        # vmsd's and the consumers' DSN verify PostgreSQL's certificate; their sessions are TLS
        conf = open(var / "vmsd" / "vmsd.conf").read()
        assert f"sslmode=verify-full sslrootcert={ca}" in conf
        # vmsd's API is HTTPS, verified with the stack's CA, and nginx's proxy verifies it
        api = f"https://127.0.0.1:{ports['VMS_API_PORT']}"
        assert f"vmsd       {api}/health" in up.stdout, up.stdout
        assert "api_tls_cert_file" in conf
        assert f"proxy_pass https://127.0.0.1:{ports['VMS_API_PORT']}" in open(
            var / "nginx" / "conf" / "server.d" / "live.conf").read()
        vmsstack.wait_for("vmsd on postgres", lambda: requests.get(api + "/health", timeout=5, verify=ca)
                          .json()["postgres"]["connected"], 60)
        # Prometheus scrapes that HTTPS endpoint, verifying it with the CA: its target is up

        def vmsd_up():
            r = requests.get(f"http://127.0.0.1:{ports['VMS_PROMETHEUS_PORT']}/api/v1/query",
                             params={"query": 'up{job="vmsd"}'}, timeout=5).json()["data"]["result"]
            return r and r[0]["value"][1] == "1"
        vmsstack.wait_for("prometheus scraping vmsd over TLS", vmsd_up, 60)
        dsn = (f"host=127.0.0.1 port={ports['VMS_PG_PORT']} dbname=vms user=postgres"
               f" sslmode=verify-full sslrootcert={ca}")
        with psycopg.connect(dsn) as c:
            apps = dict(c.execute("SELECT a.application_name, bool_and(s.ssl) FROM pg_stat_activity a"
                                  " JOIN pg_stat_ssl s USING (pid) WHERE a.backend_type = 'client backend'"
                                  " GROUP BY 1").fetchall())
        assert apps.get("vmsd") is True, apps
        assert all(apps.values()), apps
        # Redis only over mutual TLS; vmsd writes its camera status through the stunnel endpoint
        assert f"redis = 127.0.0.1:{ports['VMS_REDIS_PORT']}" in conf
        tls = ["redis-cli", "-p", ports["VMS_REDIS_TLS_PORT"], "--tls", "--cacert", ca,
               "--cert", str(var / "tls" / "vmsd.crt"), "--key", str(var / "tls" / "vmsd.key")]
        vmsstack.wait_for("vmsd's camera status over Redis TLS", lambda: subprocess.run(
            tls + ["GET", "vms:camera:cam1:status"], capture_output=True, text=True, timeout=30).stdout.strip(), 60)
        assert subprocess.run(["redis-cli", "-p", ports["VMS_REDIS_TLS_PORT"], "PING"], capture_output=True,
                              text=True, timeout=30).stdout.strip() != "PONG"
        # a second run keeps the CA and the certificates
        ca_bytes = open(ca, "rb").read()
        up = subprocess.run(run + ["run", "--build", build_dir, "--detach", "--tls"], env=env,
                            capture_output=True, text=True, timeout=240)
        assert up.returncode == 0, up.stderr + up.stdout
        assert "issued" not in up.stdout and open(ca, "rb").read() == ca_bytes, up.stdout
    finally:
        down = subprocess.run(run + ["stop"], env=env, capture_output=True, text=True, timeout=120)
    assert down.returncode == 0, down.stderr
