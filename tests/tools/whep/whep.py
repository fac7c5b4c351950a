#!/usr/bin/python3
"""whep: a small WHEP endpoint (RFC 9725) on GStreamer's webrtcbin, for tests.

It serves each camera of an RTSP server (camsim) as WebRTC, the way MediaMTX's
:8889 does, so the player's "Baixa Latência" path is tested against a real
WebRTC peer. H.264 is passed through (depay, parse, pay): nothing is encoded.

    whep.py --port P --rtsp 'rtsp://127.0.0.1:8554/camera/{camera}' [--cameras cam1,cam2]

    POST   …/{camera}/whep          SDP offer -> 201, SDP answer, Location …/{camera}/whep/{session};
                                    404 for a camera not in --cameras (when given)
    DELETE …/{camera}/whep/{session} -> 200, the session's pipeline stopped
    GET    /health                  -> 200 {"sessions": N}
    POST   /control/refuse?seconds=T -> new sessions get 503 for T seconds (a fault for tests)

ICE uses 127.0.0.1 only (libnice restricted to that address), so every packet
stays on loopback; the browser needs --allow-loopback-in-peer-connection.
Prints "whep: ready http://127.0.0.1:P" when listening. Stops on SIGTERM.
"""

import argparse
import ctypes
import json
import re
import secrets
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstWebRTC", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("Nice", "0.1")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC, Nice  # noqa: E402

CAMERA = re.compile(r"^(?P<base>/(?:[A-Za-z0-9_-]+/)*(?P<camera>[A-Za-z0-9_-]{1,64})/whep)(?:/(?P<session>[A-Za-z0-9]+))?$")
MAX_OFFER = 64 * 1024
GATHER_TIMEOUT = 5.0


# GStreamer 1.22's webrtcbin hands out its "ice-agent" still floating: PyGObject
# sinks that reference and drops it with the wrapper, freeing the agent under
# webrtcbin. One extra reference per read keeps the count right.
_gobject = ctypes.CDLL("libgobject-2.0.so.0")
_gobject.g_object_ref.argtypes = [ctypes.c_void_p]
_gobject.g_object_ref.restype = ctypes.c_void_p
_capsule_ptr = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_ptr.argtypes = [ctypes.py_object, ctypes.c_char_p]
_capsule_ptr.restype = ctypes.c_void_p


def nice_agent(webrtcbin):
    ice = webrtcbin.get_property("ice-agent")
    _gobject.g_object_ref(_capsule_ptr(ice.__gpointer__, None))
    return ice.get_property("agent")


def log(msg):
    print(f"whep: {msg}", file=sys.stderr, flush=True)


def h264_payload(offer_sdp):
    """The offer's H.264 payload type for packetization-mode=1, constrained baseline preferred."""
    pts = set(re.findall(r"a=rtpmap:(\d+) H264/90000", offer_sdp))
    best = None
    for pt, params in re.findall(r"a=fmtp:(\d+) (.*)", offer_sdp):
        if pt not in pts or "packetization-mode=1" not in params:
            continue
        if "profile-level-id=42e01f" in params:
            return int(pt)
        best = best or int(pt)
    return best


class Session:
    """One viewer: rtspsrc -> depay -> parse -> pay -> webrtcbin (sendonly)."""

    def __init__(self, sid, camera, rtsp_url, pt):
        self.sid, self.camera = sid, camera
        # The SSRC is fixed up front so the answer announces it (a=ssrc): Chromium does not
        # route a bundled stream by payload type alone ("Failed to demux RTP packet").
        ssrc = secrets.randbelow(2**31 - 1) + 1
        desc = (f"rtspsrc name=src location={rtsp_url} protocols=tcp latency=0 ! "
                f"rtph264depay ! h264parse config-interval=-1 ! "
                f"rtph264pay config-interval=-1 aggregate-mode=zero-latency pt={pt} ssrc={ssrc} ! "
                f"application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload={pt},"
                f"ssrc=(uint){ssrc} ! "
                f"webrtcbin name=wb{sid} bundle-policy=max-bundle latency=0")
        self.pipe = Gst.parse_launch(desc)
        self.wb = self.pipe.get_by_name(f"wb{sid}")
        agent = nice_agent(self.wb)
        lo = Nice.Address()
        lo.set_from_string("127.0.0.1")
        agent.add_local_address(lo)   # only loopback candidates
        agent.set_property("upnp", False)
        agent.set_property("keepalive-conncheck", True)   # notice a viewer that went away
        bus = self.pipe.get_bus()
        bus.add_signal_watch()
        bus.connect("message::error", self.on_error)
        self.failed = None
        self.on_gone = None   # called once when the viewer is gone without a DELETE
        self.wb.connect("notify::ice-connection-state", self.on_ice_state)

    def on_ice_state(self, wb, _pspec):
        state = wb.get_property("ice-connection-state")
        if state in (GstWebRTC.WebRTCICEConnectionState.FAILED, GstWebRTC.WebRTCICEConnectionState.CLOSED,
                     GstWebRTC.WebRTCICEConnectionState.DISCONNECTED) and self.on_gone:
            gone, self.on_gone = self.on_gone, None
            # not from webrtcbin's own thread: stopping the pipeline joins it
            threading.Thread(target=gone, daemon=True).start()

    def on_error(self, _bus, msg):
        err, _ = msg.parse_error()
        self.failed = err.message
        log(f"session {self.sid} camera {self.camera}: {err.message}")

    def answer(self, offer_sdp):
        self.pipe.set_state(Gst.State.PLAYING)
        ok, sdp = GstSdp.SDPMessage.new_from_text(offer_sdp)
        if ok != GstSdp.SDPResult.OK:
            raise ValueError("offer is not SDP")
        offer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.OFFER, sdp)
        p = Gst.Promise.new()
        self.wb.emit("set-remote-description", offer, p)
        p.wait()
        for i in range(8):
            tr = self.wb.emit("get-transceiver", i)
            if tr is None:
                break
            if tr.get_property("kind") == GstWebRTC.WebRTCKind.VIDEO:
                tr.set_property("direction", GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)
        p = Gst.Promise.new()
        self.wb.emit("create-answer", None, p)
        p.wait()
        reply = p.get_reply()
        answer = reply.get_value("answer") if reply else None
        if answer is None:
            raise ValueError(f"webrtcbin made no answer ({reply.to_string() if reply else 'no reply'})")
        p = Gst.Promise.new()
        self.wb.emit("set-local-description", answer, p)
        p.wait()
        deadline = time.monotonic() + GATHER_TIMEOUT
        while (self.wb.get_property("ice-gathering-state") != GstWebRTC.WebRTCICEGatheringState.COMPLETE
               and time.monotonic() < deadline):
            time.sleep(0.02)
        return self.wb.get_property("local-description").sdp.as_text()

    def stop(self):
        self.pipe.set_state(Gst.State.NULL)
        self.pipe.get_bus().remove_signal_watch()


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr, rtsp_template, cameras=None):
        super().__init__(addr, Handler)
        self.rtsp_template = rtsp_template
        self.cameras = cameras
        self.refuse_until = 0.0
        self.sessions = {}
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    server_version = "vms-whep-test"

    def log_message(self, fmt, *args):
        log(fmt % args)

    def reply(self, status, body=b"", ctype="application/json", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, message):
        self.reply(status, json.dumps({"error": message}).encode())

    def do_GET(self):
        if self.path == "/health":
            with self.server.lock:
                n = len(self.server.sessions)
            return self.reply(200, json.dumps({"sessions": n}).encode())
        return self.error(404, "not found")

    def do_POST(self):
        path, _, query = self.path.partition("?")
        if path == "/control/refuse":
            m = re.fullmatch(r"seconds=(\d+(?:\.\d+)?)", query)
            if not m:
                return self.error(400, "seconds=T required")
            self.server.refuse_until = time.monotonic() + float(m.group(1))
            return self.reply(200, json.dumps({"refusing_for": float(m.group(1))}).encode())
        if time.monotonic() < self.server.refuse_until:
            return self.error(503, "refusing sessions (test fault)")
        m = CAMERA.match(path)
        if not m or m.group("session"):
            return self.error(404, "not a WHEP endpoint")
        if not self.headers.get("Content-Type", "").startswith("application/sdp"):
            return self.error(415, "Content-Type must be application/sdp")
        n = int(self.headers.get("Content-Length") or 0)
        if n <= 0 or n > MAX_OFFER:
            return self.error(413 if n > MAX_OFFER else 400, "SDP offer missing or too large")
        offer = self.rfile.read(n).decode("utf-8", "replace")
        pt = h264_payload(offer)
        if pt is None:
            return self.error(406, "the offer has no H.264 with packetization-mode=1")
        camera = m.group("camera")
        if self.server.cameras is not None and camera not in self.server.cameras:
            return self.error(404, f"no stream for camera {camera}")
        sid = secrets.token_hex(8)
        try:
            s = Session(sid, camera, self.server.rtsp_template.format(camera=camera), pt)
            answer = s.answer(offer)
        except Exception as e:  # noqa: BLE001 - reported to the client
            log(f"camera {camera}: {e}")
            return self.error(500, f"session failed: {e}")
        with self.server.lock:
            self.server.sessions[sid] = s

        def gone():
            with self.server.lock:
                alive = self.server.sessions.pop(sid, None)
            if alive:
                log(f"session {sid} camera {camera}: viewer gone, stopped")
                alive.stop()
        s.on_gone = gone
        log(f"session {sid} camera {camera} pt {pt}")
        self.reply(201, answer.encode(), "application/sdp",
                   [("Location", f"{m.group('base')}/{sid}"), ("Access-Control-Expose-Headers", "Location")])

    def do_DELETE(self):
        m = CAMERA.match(self.path)
        if not m or not m.group("session"):
            return self.error(404, "no such session")
        with self.server.lock:
            s = self.server.sessions.pop(m.group("session"), None)
        if s is None:
            return self.error(404, "no such session")
        s.stop()
        self.reply(200)

    def do_PATCH(self):
        # Trickle ICE is not used: the offer carries all candidates.
        self.error(405, "trickle ICE not supported")


def main():
    ap = argparse.ArgumentParser(prog="whep")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rtsp", required=True, help="RTSP URL template with {camera}")
    ap.add_argument("--cameras", help="comma-separated cameras served (default: any)")
    args = ap.parse_args()
    Gst.init(None)
    loop = GLib.MainLoop()   # bus watches and webrtcbin's ICE run on it
    threading.Thread(target=loop.run, daemon=True).start()
    srv = Server(("127.0.0.1", args.port), args.rtsp, set(args.cameras.split(",")) if args.cameras else None)

    def shutdown(*_):
        threading.Thread(target=srv.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    log(f"ready http://127.0.0.1:{args.port}")
    srv.serve_forever()
    with srv.lock:
        for s in srv.sessions.values():
            s.stop()
    loop.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
