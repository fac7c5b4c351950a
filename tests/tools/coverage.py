#!/usr/bin/env python3
"""Coverage of modules/ and sidecar/ after `./build.sh test` (gcov counters of the sanitizer build).

    tests/tools/coverage.py BUILD_DIR [--html DIR] [--min-lines PCT]

Runs gcovr (Debian) over BUILD_DIR's counters, keeps an HTML report (default
tests/artifacts/coverage/index.html) and a JSON summary beside it, and prints line and branch
coverage per folder and for modules/ and sidecar/ as a whole. --min-lines makes it exit 1 when
either whole is below PCT (off by default: the figure is reported, the suite does not fail on it).
"""
import argparse
import collections
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOPS = ("modules", "sidecar")


def pct(hit, total):
    return f"{100.0 * hit / total:5.1f}%" if total else "    —"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--html", default=os.path.join(ROOT, "tests", "artifacts", "coverage"))
    ap.add_argument("--min-lines", type=float, default=None)
    a = ap.parse_args()
    os.makedirs(a.html, exist_ok=True)
    summary = os.path.join(a.html, "summary.json")
    cmd = ["gcovr", "-r", ROOT, "-j", str(os.cpu_count() or 2), "--gcov-ignore-parse-errors",
           "--exclude-unreachable-branches", "--exclude-throw-branches",
           "--html-details", os.path.join(a.html, "index.html"), "--json-summary", summary]
    for top in TOPS:
        cmd += ["--filter", os.path.join(ROOT, top) + "/"]
    cmd.append(os.path.abspath(a.build))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"coverage: gcovr failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}", file=sys.stderr)
        return 1
    with open(summary) as f:
        files = json.load(f)["files"]
    per = collections.defaultdict(lambda: [0, 0, 0, 0])
    for e in files:
        folder = os.path.dirname(e["filename"]) or "."
        for key in (folder, folder.split("/")[0] + " (all)"):
            t = per[key]
            t[0] += e["line_covered"]; t[1] += e["line_total"]
            t[2] += e["branch_covered"]; t[3] += e["branch_total"]
    print(f"{'folder':36} {'lines':>16} {'branches':>16}")
    for key in sorted(per, key=lambda k: (k.split("/")[0], k.endswith("(all)"), k)):
        l1, l2, b1, b2 = per[key]
        print(f"{key:36} {pct(l1, l2)} {l1:>5}/{l2:<5} {pct(b1, b2)} {b1:>5}/{b2:<5}")
    print(f"coverage: HTML report {os.path.join(a.html, 'index.html')}")
    if a.min_lines is not None:
        low = [t for t in TOPS if per[f"{t} (all)"][1]
               and 100.0 * per[f"{t} (all)"][0] / per[f"{t} (all)"][1] < a.min_lines]
        if low:
            print(f"coverage: below {a.min_lines}% lines: {', '.join(low)}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
