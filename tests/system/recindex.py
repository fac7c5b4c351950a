"""Test helpers for recordings: an independent reader of the segment index (docs/index-format.md)
and ffprobe wrappers.  Used by test_recording.py and test_retention.py."""
import glob
import json
import os
import struct
import subprocess

HDR = 64
SEG = 256
FRAG_HDR = 32
FRAG = 32
SEG_DISCONTINUITY, SEG_OPEN = 1, 2
FRAG_KEY = 1


def _record(buf, off):
    start, dur, nbytes, frag_off, init, flags, nfrags = struct.unpack_from("<qqQQIII", buf, off)
    path = buf[off + 48:off + 208].split(b"\0", 1)[0].decode()
    return {"start_us": start, "duration_us": dur, "bytes": nbytes, "frag_off": frag_off,
            "init_size": init, "flags": flags, "nfrags": nfrags, "path": path}


def _frags(buf, off):
    magic, n, seg_start = struct.unpack_from("<IIq", buf, off)
    assert magic == 0x42524656, f"fragment block magic {magic:#x}"
    out = []
    for i in range(n):
        o, size, flags, start, dur = struct.unpack_from("<QIIqq", buf, off + FRAG_HDR + i * FRAG)
        out.append({"offset": o, "size": size, "key": bool(flags & FRAG_KEY), "start_us": start,
                    "duration_us": dur})
    return out


def segments(camera_dir, frags=False):
    """Closed segments of a camera, in start order, each a dict (with "frags" when asked)."""
    idx = os.path.join(camera_dir, ".index")
    out = []
    for seg_file in sorted(glob.glob(os.path.join(idx, "*.seg"))):
        with open(seg_file, "rb") as f:
            buf = f.read()
        assert buf[:8] == b"VMSISEG1", seg_file
        fbuf = None
        if frags:
            with open(seg_file[:-4] + ".frag", "rb") as f:
                fbuf = f.read()
        for off in range(HDR, len(buf) - SEG + 1, SEG):
            r = _record(buf, off)
            if frags:
                r["frags"] = _frags(fbuf, r["frag_off"])
            out.append(r)
    return sorted(out, key=lambda r: r["start_us"])


def open_segment(camera_dir):
    """The open-segment record (with its fragments), or None."""
    p = os.path.join(camera_dir, ".index", "open")
    try:
        with open(p, "rb") as f:
            buf = f.read()
    except FileNotFoundError:
        return None
    if len(buf) < HDR + SEG:
        return None
    assert buf[:8] == b"VMSIOPN1", p
    r = _record(buf, HDR)
    if r["start_us"] == 0:
        return None
    r["frags"] = _frags(buf, r["frag_off"]) if r["nfrags"] else []
    return r


def ffprobe(path, *args):
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", *args, path],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"ffprobe rejects {path}: {out.stderr}"
    return json.loads(out.stdout)


def probe(path):
    """Format + streams of a file, the recorder's start (from its comment tag) and the video
    frames, counted by decoding the packets' headers (-count_packets)."""
    j = ffprobe(path, "-count_packets", "-show_format", "-show_streams")
    tags = j["format"].get("tags", {})
    comment = tags.get("comment", "")
    start_us = None
    for part in comment.split():
        if part.startswith("start_us="):
            start_us = int(part.split("=", 1)[1])
    video = [s for s in j["streams"] if s["codec_type"] == "video"]
    return {"format": j["format"], "streams": j["streams"], "start_us": start_us,
            "video_duration": float(video[0]["duration"]) if video else None,
            "video_frames": int(video[0]["nb_read_packets"]) if video else 0,
            "fps": (lambda a, b: a / b)(*map(int, video[0]["avg_frame_rate"].split("/")))
            if video and video[0].get("avg_frame_rate", "0/0") != "0/0" else None}


def decode_errors(path):
    """Everything ffmpeg complains about while decoding the whole file (empty when clean)."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", path, "-f", "null", "-"],
                         capture_output=True, text=True, timeout=120)
    return (out.stderr.strip() + ("" if out.returncode == 0 else f" (exit {out.returncode})")).strip()
