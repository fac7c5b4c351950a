#!/usr/bin/python3
"""Light RTSP/TCP readers for measuring camsim: N real RTSP sessions (OPTIONS, DESCRIBE, SETUP with
interleaved TCP, PLAY) in one process, draining and counting RTP packets without decoding.

    readers.py rtsp://127.0.0.1:8554/camera/cam{1..32} --seconds 30 [--pid CAMSIM_PID]

Prints per-stream packet counts, and with --pid the CPU time camsim used while all sessions played.
"""
import argparse
import os
import selectors
import socket
import sys
import time
import urllib.parse


class Session:
    def __init__(self, url):
        self.url = url
        u = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((u.hostname, u.port or 554), timeout=10)
        self.cseq = 0
        self.buf = b""
        self.rtp = 0
        self.bytes = 0
        self.closed = None
        self.request("OPTIONS", url)
        hdrs, body = self.request("DESCRIBE", url, "Accept: application/sdp\r\n")
        base = hdrs.get("content-base", url if url.endswith("/") else url + "/")
        control = next(line.split(":", 1)[1].strip() for line in body.decode().splitlines()
                       if line.startswith("a=control:") and line.strip() != "a=control:*")
        track = control if control.startswith("rtsp://") else base.rstrip("/") + "/" + control
        hdrs, _ = self.request("SETUP", track, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n")
        self.session = hdrs["session"].split(";")[0]
        self.request("PLAY", url, f"Session: {self.session}\r\nRange: npt=0-\r\n")
        self.sock.setblocking(False)

    def request(self, method, url, extra=""):
        self.cseq += 1
        self.sock.sendall(f"{method} {url} RTSP/1.0\r\nCSeq: {self.cseq}\r\n{extra}\r\n".encode())
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        if " 200 " not in lines[0] + " ":
            raise RuntimeError(f"{method} {url}: {lines[0]}")
        hdrs = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        n = int(hdrs.get("content-length", 0))
        while len(self.buf) < n:
            self.buf += self.sock.recv(65536)
        body, self.buf = self.buf[:n], self.buf[n:]
        return hdrs, body

    def drain(self):
        data = self.sock.recv(262144)
        if not data:
            self.closed = time.monotonic()
            return False
        self.bytes += len(data)
        self.buf += data
        while len(self.buf) >= 4:
            if self.buf[0] != 0x24:           # an RTSP reply (keep-alive); skip to the next frame
                i = self.buf.find(b"$")
                self.buf = self.buf[i:] if i >= 0 else b""
                continue
            n = int.from_bytes(self.buf[2:4], "big")
            if len(self.buf) < 4 + n:
                break
            if self.buf[1] == 0:
                self.rtp += 1
            self.buf = self.buf[4 + n:]
        return True


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("urls", nargs="+")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--pid", type=int)
    args = ap.parse_args()
    sessions = [Session(u) for u in args.urls]
    sel = selectors.DefaultSelector()
    for s in sessions:
        sel.register(s.sock, selectors.EVENT_READ, s)
    t0 = time.monotonic()
    c0 = cpu_ticks(args.pid) if args.pid else 0
    while time.monotonic() - t0 < args.seconds:
        for key, _ in sel.select(0.5):
            if not key.data.drain():
                sel.unregister(key.fileobj)
    elapsed = time.monotonic() - t0
    hz = os.sysconf("SC_CLK_TCK")
    for s in sessions:
        state = f"closed after {s.closed - t0:.1f} s" if s.closed else "open"
        print(f"{s.url}: {s.rtp} RTP packets, {s.bytes} bytes, {state}")
    if args.pid:
        cpu = (cpu_ticks(args.pid) - c0) / hz
        print(f"camsim CPU: {cpu:.2f} s in {elapsed:.1f} s = {100 * cpu / elapsed:.1f} % of one core "
              f"for {len(sessions)} sessions")
    return 0 if all(s.closed is None and s.rtp > 0 for s in sessions) else 1


if __name__ == "__main__":
    sys.exit(main())
