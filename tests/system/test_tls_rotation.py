"""vmsd's API certificate rotated on SIGHUP (#14 item 2, docs/vmsd.md "Certificate rotation"):
auto/certs.sh --renew, SIGHUP, and a new `openssl s_client` gets the new certificate while a
connection set up before keeps answering on the old one; a key that is not the certificate's keeps
the pair in force and says which file is wrong."""
import hashlib
import http.client
import re
import signal
import subprocess

import requests

import vmsstack

VMSD_CONF = """[vmsd]
listen = 127.0.0.1:@API_PORT@
recordings = @RECORDINGS@
spool_dir = @STATE@/spool
api_tls_cert_file = {crt}
api_tls_key_file = {key}

[camera cam1]
url = rtsp://127.0.0.1:9/camera/cam1
record = false
"""


def cert_fields(pem):
    """(serial, notAfter) as openssl x509 prints them."""
    r = subprocess.run(["openssl", "x509", "-noout", "-serial", "-enddate"], input=pem,
                       capture_output=True, text=True, check=True)
    return re.search(r"serial=(\w+)", r.stdout).group(1), re.search(r"notAfter=(.+)", r.stdout).group(1)


def served(port, ca):
    """(serial, notAfter) of the certificate a new handshake gets, verified with ca by s_client."""
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost",
                        "-verify_hostname", "localhost", "-CAfile", ca, "-verify_return_error"],
                       input="", capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "Verify return code: 0 (ok)" in r.stdout, r.stdout + r.stderr
    pem = re.search(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", r.stdout, re.S).group(0)
    return cert_fields(pem)


def on_file(path):
    with open(path) as f:
        return cert_fields(f.read())


def test_vmsd_api_certificate_rotates_on_sighup_and_a_bad_pair_is_refused(tls_stack, tmp_path):
    certs = vmsstack.Certs(str(tmp_path / "rot"))     # its own files: renewing them touches no other test
    certs.issue("vmsd")
    crt, key = certs.crt("vmsd"), certs.key("vmsd")
    v = tls_stack.vmsd(text=VMSD_CONF.format(crt=crt, key=key), wait=False)
    v.wait_line(r"http: API on https://", 30)
    first = on_file(crt)
    assert served(v.port, certs.ca) == first

    # nginx -> vmsd over verified TLS (server.d/vmsd_tls.conf.in), before and after the rotation
    ngx = tls_stack.nginx(vars={"VMSD_API": f"127.0.0.1:{v.port}", "VMSD_CA": certs.ca}, name="nginx-rot")
    auth = {"Authorization": f"Bearer {tls_stack.service_token('rot-admin')}"}

    def cameras_through_nginx():
        r = requests.get(ngx.url("/api/cameras"), headers=auth, timeout=10)
        assert r.status_code == 200 and [c["id"] for c in r.json()["cameras"]] == ["cam1"], r.text
    cameras_through_nginx()

    # a connection set up on the first certificate, used before and after the rotation
    conn = http.client.HTTPSConnection("127.0.0.1", v.port, context=vmsstack.tls_context(certs.ca), timeout=10)

    def health_on_old_connection():
        conn.request("GET", "/health")
        resp = conn.getresponse()
        body = resp.read()
        assert resp.status == 200 and b'"status"' in body, body
    health_on_old_connection()
    old_fp = hashlib.sha256(conn.sock.getpeercert(binary_form=True)).hexdigest()

    out = certs.issue("vmsd", renew=True)
    assert re.search(r"^certs: vmsd +issued", out, re.M), out
    second = on_file(crt)
    assert second[0] != first[0]
    v.signal(signal.SIGHUP)

    def rotated():          # each poll also uses the old connection: it keeps answering throughout
        health_on_old_connection()
        return served(v.port, certs.ca) == second
    vmsstack.wait_for("renewed certificate served", rotated, 30, v.proc, v.log)
    v.wait_line(rf"reload: API certificate from {re.escape(crt)} \(serial {second[0]}, notAfter ", 10)
    health_on_old_connection()
    assert hashlib.sha256(conn.sock.getpeercert(binary_form=True)).hexdigest() == old_fp
    conn.close()
    cameras_through_nginx()         # nginx's new handshakes verify the renewed certificate

    # a key that is not the certificate's: the reload is refused, the second pair stays in force
    other = vmsstack.Certs(str(tmp_path / "other"))
    other.issue("vmsd")
    with open(other.key("vmsd")) as src, open(key, "w") as dst:
        dst.write(src.read())
    v.signal(signal.SIGHUP)
    v.wait_line(rf"reload refused, running configuration kept: http: api_tls_key_file {re.escape(key)} is not"
                rf" the key of the certificate in api_tls_cert_file {re.escape(crt)}", 30)
    assert served(v.port, certs.ca) == second
    cameras_through_nginx()
    assert "PRIVATE KEY" not in v.output()
    assert v.alive()
