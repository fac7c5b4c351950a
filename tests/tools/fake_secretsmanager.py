#!/usr/bin/python3
"""fake_secretsmanager: a loopback stand-in for AWS Secrets Manager's GetSecretValue
(JSON 1.1 API) that verifies every request's SigV4 signature with python3-botocore's
signer (aws_standin.verify), independently of libcurl, which signs our requests.

    fake_secretsmanager.py --access-key AK --secret-key-file FILE --secrets FILE.json [--port 0]
    -> prints "fake-secretsmanager: ready 127.0.0.1:PORT"

The secret key and the secrets come from files, never argv (the "no secret anywhere" test
greps every harness process's command line).  FILE.json: {"SECRET-ID": "SecretString", ...}.

Answers as AWS does: 200 {"ARN","Name","SecretString","VersionId","VersionStages","CreatedDate"};
400 {"__type":"ResourceNotFoundException"} for an unknown id; 400 AccessDeniedException
for a signature that does not verify (the reason goes to this tool's log);
400 for another X-Amz-Target.

Test control (unsigned, loopback only):
    GET  /_fake/requests     every request: target, secret_id, sig_ok, status, reason
    POST /_fake/secrets      {"SECRET-ID": "new value"}: rotate (a new VersionId)
"""
import argparse
import json
import os
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aws_standin import verify  # noqa: E402  (botocore's SigV4, one copy)

REGION_ACCOUNT = "123456789012"


class State:
    def __init__(self, ak, sk, secrets):
        self.ak, self.sk = ak, sk
        self.lock = threading.Lock()
        self.requests = []
        self.secrets = {k: (v, str(uuid.uuid4())) for k, v in secrets.items()}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-secretsmanager"

    def log_message(self, fmt, *args):
        sys.stderr.write("fake-secretsmanager: " + (fmt % args) + "\n")

    def _send(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _record(self, **kw):
        with self.server.state.lock:
            self.server.state.requests.append(kw)

    def do_GET(self):
        if self.path == "/_fake/requests":
            with self.server.state.lock:
                self._send(200, list(self.server.state.requests))
            return
        self._send(404, {"__type": "UnknownOperationException"})

    def do_POST(self):
        st = self.server.state
        body = self._body()
        if self.path == "/_fake/secrets":
            with st.lock:
                for k, v in json.loads(body).items():
                    st.secrets[k] = (v, str(uuid.uuid4()))
            self._send(200, {})
            return
        target = self.headers.get("X-Amz-Target", "")
        ok, service, reason = verify(st, "POST", self.path, self.headers, body)
        if ok and service != "secretsmanager":
            ok, reason = False, f"signed for service {service}"
        try:
            sid = json.loads(body).get("SecretId")
        except ValueError:
            sid = None
        if not ok:
            # the reason is for the test's log; AWS tells the client little more
            sys.stderr.write(f"fake-secretsmanager: signature rejected: {reason}\n")
            self._record(target=target, secret_id=sid, sig_ok=False, status=400, reason=reason)
            self._send(400, {"__type": "AccessDeniedException",
                             "Message": "The request signature we calculated does not match the"
                                        " signature you provided."})
            return
        if target != "secretsmanager.GetSecretValue":
            self._record(target=target, secret_id=sid, sig_ok=True, status=400, reason="target")
            self._send(400, {"__type": "UnknownOperationException"})
            return
        with st.lock:
            found = st.secrets.get(sid) if isinstance(sid, str) else None
        if found is None:
            self._record(target=target, secret_id=sid, sig_ok=True, status=400, reason="not found")
            self._send(400, {"__type": "ResourceNotFoundException",
                             "Message": "Secrets Manager can't find the specified secret."})
            return
        value, version = found
        self._record(target=target, secret_id=sid, sig_ok=True, status=200, reason="")
        region = self.headers.get("Authorization", "").split("/")[2:3] or ["us-east-1"]
        self._send(200, {
            "ARN": f"arn:aws:secretsmanager:{region[0]}:{REGION_ACCOUNT}:secret:{sid}-AbCdEf",
            "Name": sid, "SecretString": value, "VersionId": version,
            "VersionStages": ["AWSCURRENT"], "CreatedDate": 1.7e9})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--access-key", required=True)
    ap.add_argument("--secret-key-file", required=True)
    ap.add_argument("--secrets", required=True, help="JSON file {id: SecretString}")
    a = ap.parse_args()
    with open(a.secret_key_file) as f:
        sk = f.read().rstrip("\n")
    with open(a.secrets) as f:
        secrets = json.load(f)
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.state = State(a.access_key, sk, secrets)
    print(f"fake-secretsmanager: ready 127.0.0.1:{srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
