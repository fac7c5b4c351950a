#!/usr/bin/python3
"""aws_standin: a local stand-in for Amazon Rekognition (JSON 1.1 API) and S3
(path-style PutObject/GetObject) that checks every request's SigV4 signature
independently of libcurl, with python3-botocore's signer.

    aws_standin.py --access-key AK --secret-file FILE [--port 0]
    (the secret key from a file: argv is visible in ps, and tests grep it for secrets)
    -> prints "aws-standin: ready 127.0.0.1:PORT"

Rekognition: DetectLabels, DetectFaces, DetectText answer canned results
(a person and a car with boxes, one face, the line "KX52ABC").  A request
whose signature does not verify gets 400 InvalidSignatureException (as AWS
answers), one without credentials 400 MissingAuthenticationTokenException.

Test control (unsigned, loopback only):
    GET  /_standin/requests         every request seen: service, op, sig_ok,
                                    status, t (monotonic s)
    POST /_standin/config           {"delay": s, "fail": n, "fail_status": 500,
                                     "throttle": n}: the next n Rekognition
                                    calls fail / are throttled; every
                                    Rekognition call waits delay s first
    GET  /_standin/s3/BUCKET/KEY    a stored object
"""
import argparse
import datetime
import hashlib
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AUTH_RE = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request,\s*"
                     r"SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$")

LABELS = {"Labels": [
    {"Name": "Person", "Confidence": 98.5, "Parents": [],
     "Instances": [{"BoundingBox": {"Width": 0.2, "Height": 0.5, "Left": 0.1, "Top": 0.25},
                    "Confidence": 98.5}]},
    {"Name": "Car", "Confidence": 91.0, "Parents": [{"Name": "Vehicle"}, {"Name": "Transportation"}],
     "Instances": [{"BoundingBox": {"Width": 0.4, "Height": 0.3, "Left": 0.5, "Top": 0.6},
                    "Confidence": 91.0}]},
    {"Name": "Outdoors", "Confidence": 80.0, "Parents": [], "Instances": []},
], "LabelModelVersion": "3.0"}
FACES = {"FaceDetails": [{"BoundingBox": {"Width": 0.1, "Height": 0.15, "Left": 0.15, "Top": 0.3},
                          "Confidence": 99.9}]}
TEXT = {"TextDetections": [
    {"DetectedText": "KX52ABC", "Type": "LINE", "Id": 0, "Confidence": 97.0,
     "Geometry": {"BoundingBox": {"Width": 0.2, "Height": 0.05, "Left": 0.6, "Top": 0.8}}},
    {"DetectedText": "KX52ABC", "Type": "WORD", "Id": 1, "ParentId": 0, "Confidence": 97.0,
     "Geometry": {"BoundingBox": {"Width": 0.2, "Height": 0.05, "Left": 0.6, "Top": 0.8}}},
]}
ANSWERS = {"DetectLabels": LABELS, "DetectFaces": FACES, "DetectText": TEXT}


class State:
    def __init__(self, ak, sk):
        self.ak, self.sk = ak, sk
        self.lock = threading.Lock()
        self.requests = []
        self.objects = {}
        self.delay = 0.0
        self.fail = 0
        self.fail_status = 500
        self.throttle = 0


def verify(state, method, path, headers, body):
    """Returns (ok, service, reason).  Recomputes the signature with botocore."""
    auth = headers.get("Authorization", "")
    m = AUTH_RE.match(auth)
    if not m:
        return False, None, "no or malformed Authorization header"
    ak, date, region, service, signed, sig = m.groups()
    if ak != state.ak:
        return False, service, "unknown access key"
    amz_date = headers.get("X-Amz-Date", "")
    try:
        t = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return False, service, "bad X-Amz-Date"
    if abs((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds()) > 900:
        return False, service, "request time too skewed"
    if amz_date[:8] != date:
        return False, service, "credential scope date differs from X-Amz-Date"
    names = signed.split(";")
    for required in ("host", "x-amz-date"):
        if required not in names:
            return False, service, f"{required} not signed"
    hdrs = {}
    for n in names:
        v = headers.get(n)
        if v is None:
            return False, service, f"signed header {n} missing"
        hdrs[n] = v
    if service == "s3":
        want = hashlib.sha256(body).hexdigest()
        if headers.get("x-amz-content-sha256") != want:
            return False, service, "x-amz-content-sha256 does not match the body"
    req = AWSRequest(method=method, url="http://" + headers["Host"] + path, data=body, headers=hdrs)
    signer = (S3SigV4Auth if service == "s3" else SigV4Auth)(Credentials(ak, state.sk), service, region)
    req.context["timestamp"] = amz_date
    canonical = signer.canonical_request(req)
    expected = signer.signature(signer.string_to_sign(req, canonical), req)
    if expected != sig:
        return False, service, "signature mismatch"
    return True, service, ""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "aws-standin"

    def log_message(self, fmt, *args):
        sys.stderr.write("aws-standin: " + (fmt % args) + "\n")

    def _send(self, status, obj=None, raw=None, ctype="application/x-amz-json-1.1"):
        data = raw if raw is not None else (json.dumps(obj).encode() if obj is not None else b"")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _record(self, **kw):
        st = self.server.state
        kw["t"] = time.monotonic()
        with st.lock:
            st.requests.append(kw)

    def do_GET(self):
        st = self.server.state
        if self.path == "/_standin/requests":
            with st.lock:
                return self._send(200, st.requests, ctype="application/json")
        if self.path.startswith("/_standin/s3/"):
            key = self.path[len("/_standin/s3/"):]
            with st.lock:
                obj = st.objects.get(key)
            if obj is None:
                return self._send(404, {"error": "no such object", "key": key}, ctype="application/json")
            return self._send(200, raw=obj, ctype="application/json")
        self._send(404, {"error": "not found"}, ctype="application/json")

    def do_POST(self):
        st = self.server.state
        body = self._body()
        if self.path == "/_standin/config":
            cfg = json.loads(body or b"{}")
            with st.lock:
                st.delay = float(cfg.get("delay", st.delay))
                st.fail = int(cfg.get("fail", st.fail))
                st.fail_status = int(cfg.get("fail_status", st.fail_status))
                st.throttle = int(cfg.get("throttle", st.throttle))
            return self._send(200, {"ok": True}, ctype="application/json")
        target = self.headers.get("X-Amz-Target", "")
        op = target.split(".", 1)[1] if target.startswith("RekognitionService.") else target
        ok, service, reason = verify(st, "POST", self.path, self.headers, body)
        if not ok:
            self._record(service=service or "rekognition", op=op, sig_ok=False, status=400, reason=reason)
            return self._send(400, {"__type": "InvalidSignatureException", "message": reason})
        if service != "rekognition" or op not in ANSWERS:
            self._record(service=service, op=op, sig_ok=True, status=400, reason="unknown operation")
            return self._send(400, {"__type": "InvalidParameterException", "message": "unknown operation"})
        try:
            req = json.loads(body)
            image = req["Image"]["Bytes"]
        except (ValueError, KeyError, TypeError):
            self._record(service=service, op=op, sig_ok=True, status=400, reason="no Image.Bytes")
            return self._send(400, {"__type": "InvalidParameterException", "message": "Image.Bytes required"})
        import base64
        jpeg = base64.b64decode(image)
        with st.lock:
            delay = st.delay
            fail = st.fail > 0
            throttle = not fail and st.throttle > 0
            if fail:
                st.fail -= 1
            elif throttle:
                st.throttle -= 1
        self._record(service=service, op=op, sig_ok=True, jpeg=jpeg[:2] == b"\xff\xd8",
                     status=st.fail_status if fail else 400 if throttle else 200, delay=delay)
        if delay:
            time.sleep(delay)
        if fail:
            return self._send(st.fail_status, {"__type": "InternalServerError", "message": "stand-in failure"})
        if throttle:
            return self._send(400, {"__type": "ThrottlingException", "message": "Rate exceeded"})
        self._send(200, ANSWERS[op])

    def do_PUT(self):
        st = self.server.state
        body = self._body()
        ok, service, reason = verify(st, "PUT", self.path, self.headers, body)
        key = self.path.lstrip("/")
        if not ok:
            self._record(service=service or "s3", op="PutObject", sig_ok=False, status=403, reason=reason, key=key)
            return self._send(403, raw=b"<Error><Code>SignatureDoesNotMatch</Code></Error>",
                              ctype="application/xml")
        with st.lock:
            st.objects[key] = body
        self._record(service=service, op="PutObject", sig_ok=True, status=200, key=key)
        self._send(200, raw=b"", ctype="application/xml")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--access-key", required=True)
    ap.add_argument("--secret-file", required=True)
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    with open(a.secret_file) as f:
        secret = f.read().rstrip("\n")
    srv.state = State(a.access_key, secret)
    print(f"aws-standin: ready 127.0.0.1:{srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
