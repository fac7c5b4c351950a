"""Scans a stack's work directory for credentials that reached a log (issue #20 item 3).

Logs = every file under the work dir whose name ends in .log, .jsonl, .out or .err, or that lies in
a `logs` directory.  Credentials = JWT-shaped strings (header.payload. in base64url, header starting
`eyJ`, i.e. `{"`) and the contents of the stack's secret files (`secrets/`, `*.key`)."""
import os
import re

JWT = re.compile(rb"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.")
LOG_SUFFIXES = (".log", ".jsonl", ".out", ".err")
SECRET_DIRS = ("secrets",)


def is_log(path):
    return path.endswith(LOG_SUFFIXES) or os.path.basename(os.path.dirname(path)) == "logs"


def secrets_of(work):
    """Contents of the stack's secret files: everything under secrets/ and any *.key file."""
    out = set()
    for dirpath, _, files in os.walk(work):
        in_secrets = os.path.relpath(dirpath, work).split(os.sep)[0] == "secrets"
        for f in files:
            if not (in_secrets or f.endswith(".key")):
                continue
            try:
                with open(os.path.join(dirpath, f), "rb") as fh:
                    data = fh.read().strip()
            except OSError:
                continue
            if len(data) >= 8:
                out.add(data)
    return out


def scan(work, extra_secrets=()):
    """[(path, line number, what)] for every credential found in a log under `work`."""
    secrets = secrets_of(work) | {s.encode() if isinstance(s, str) else s for s in extra_secrets}
    found = []
    for dirpath, _, files in os.walk(work):
        if os.path.relpath(dirpath, work).split(os.sep)[0] in SECRET_DIRS:
            continue
        for f in files:
            path = os.path.join(dirpath, f)
            if not is_log(path) or not os.path.isfile(path):
                continue
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
            except OSError:
                continue
            for n, line in enumerate(data.splitlines(), 1):
                m = JWT.search(line)
                if m:
                    found.append((path, n, "JWT " + m.group(0)[:24].decode("latin1") + "..."))
                for s in secrets:
                    if s in line:
                        found.append((path, n, f"secret ({len(s)} bytes)"))
    return found


def report(found, limit=20):
    return "\n".join(f"{p}:{n}: {what}" for p, n, what in found[:limit]) + (
        f"\n... {len(found) - limit} more" if len(found) > limit else "")
