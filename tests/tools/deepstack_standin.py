#!/usr/bin/python3
"""deepstack_standin: a local stand-in for a DeepStack / CodeProject.AI Server
object detector.  POST /v1/vision/detection with a multipart "image" (JPEG)
and optional "min_confidence" answers {"success":true,"predictions":[…]} with
a person and a car in pixel coordinates of the picture (boxes derived from
its size, read from the JPEG header).

    deepstack_standin.py [--port 0]  -> "deepstack-standin: ready 127.0.0.1:PORT"
    GET /_standin/requests: every request (fields, JPEG size, status)
    POST /_standin/config {"delay": s, "fail": n}
"""
import argparse
import email.parser
import email.policy
import json
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def jpeg_size(data):
    """(width, height) from the SOF marker, or None."""
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        seglen = struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + seglen
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("deepstack-standin: " + (fmt % args) + "\n")

    def _send(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/_standin/requests":
            with self.server.lock:
                return self._send(200, self.server.requests)
        self._send(404, {"error": "not found"})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        srv = self.server
        if self.path == "/_standin/config":
            cfg = json.loads(body or b"{}")
            with srv.lock:
                srv.delay = float(cfg.get("delay", srv.delay))
                srv.fail = int(cfg.get("fail", srv.fail))
            return self._send(200, {"ok": True})
        if self.path != "/v1/vision/detection":
            return self._send(404, {"success": False, "error": "not found"})
        ctype = self.headers.get("Content-Type", "")
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
        fields = {}
        if msg.is_multipart():
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                fields[name] = part.get_payload(decode=True)
        image = fields.get("image")
        size = jpeg_size(image) if image else None
        with srv.lock:
            fail = srv.fail > 0
            if fail:
                srv.fail -= 1
            delay = srv.delay
            srv.requests.append({"fields": sorted(k for k in fields if k), "jpeg": size is not None,
                                 "size": size, "min_confidence": (fields.get("min_confidence") or b"").decode(),
                                 "t": time.monotonic(), "status": 500 if fail else 200})
        if delay:
            time.sleep(delay)
        if fail:
            return self._send(500, {"success": False, "error": "stand-in failure"})
        if size is None:
            return self._send(400, {"success": False, "error": "no JPEG in field 'image'"})
        w, h = size
        preds = [
            {"label": "person", "confidence": 0.91, "x_min": w // 10, "y_min": h // 4,
             "x_max": w // 10 + w // 5, "y_max": h // 4 + h // 2},
            {"label": "car", "confidence": 0.82, "x_min": w // 2, "y_min": h * 6 // 10,
             "x_max": w * 9 // 10, "y_max": h * 9 // 10},
            {"label": "dog", "confidence": 0.20, "x_min": 1, "y_min": 1, "x_max": 5, "y_max": 5},
        ]
        self._send(200, {"success": True, "predictions": preds, "duration": 0})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.lock = threading.Lock()
    srv.requests = []
    srv.delay = 0.0
    srv.fail = 0
    print(f"deepstack-standin: ready 127.0.0.1:{srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
