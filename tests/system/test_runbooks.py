"""docs/runbooks/*.md: every `sh` block is valid shell (bash -n) and every command it names exists: one
of our binaries in the build dir, a program on this Debian 12 machine, Apache Kafka's tools in the
broker image docker/compose.yml runs, or the AWS CLI's Debian package. Nothing is executed."""
import glob
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("VMS_BUILD_DIR") or os.path.join(ROOT, "build")
RUNBOOKS = sorted(glob.glob(os.path.join(ROOT, "docs", "runbooks", "*.md")))
SHELL_WORDS = {"for", "in", "do", "done", "if", "then", "fi", "else", "while", "until", "case", "esac",
               "cat", "echo", "export", "test", "[", "true", "false"}


def blocks(path):
    return re.findall(r"```sh\n(.*?)```", open(path).read(), re.S)


def commands(block):
    """Command names at the top level of a shell block: heredoc bodies and multi-line quoted
    strings (a python3 -c program) are skipped, continuation lines joined."""
    text = re.sub(r"<<'(\w+)'\n.*?\n\1\n", "\n", block, flags=re.S)      # heredoc bodies
    text = re.sub(r"'[^']*'", "''", text)                                 # single-quoted strings
    text = text.replace("\\\n", " ")
    names = set()
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        for seg in re.split(r"\|\||&&|\||;|\$\(|\bdo\b|\bthen\b", line):
            words = [w for w in seg.strip().split() if not re.match(r"^\w+=", w)]
            if words and words[0] not in SHELL_WORDS and re.match(r"^[\w./-]+$", words[0]):
                names.add(words[0])
    return names


def exists(name):
    if os.access(os.path.join(BUILD, "bin", name), os.X_OK):
        return True
    if name.startswith("/opt/kafka/bin/"):   # Apache Kafka's tools, in the apache/kafka image
        compose = open(os.path.join(ROOT, "docker", "compose.yml")).read()
        return "image: apache/kafka:" in compose and "/opt/kafka/bin/" in compose
    if any(os.access(os.path.join(d, name), os.X_OK) for d in ("/usr/bin", "/usr/sbin", "/bin", "/sbin")):
        return True                          # a Debian package's program (not a pyenv or npm shim)
    if name == "aws":                        # Debian 12 package awscli
        return subprocess.run(["apt-cache", "show", "awscli"], capture_output=True).returncode == 0
    return False


@pytest.mark.parametrize("path", RUNBOOKS, ids=os.path.basename)
def test_runbook_commands_exist_and_parse(path):
    names = set()
    for block in blocks(path):
        r = subprocess.run(["bash", "-n"], input=block, capture_output=True, text=True)
        assert r.returncode == 0, (block, r.stderr)
        names |= commands(block)
    assert names, path
    assert not exists("vms-no-such-tool")    # the check can fail
    missing = sorted(n for n in names if not exists(n))
    assert not missing, missing


def test_disaster_recovery_covers_postgres_index_and_dlqs():
    names = set()
    for block in blocks(os.path.join(ROOT, "docs", "runbooks", "disaster-recovery.md")):
        names |= commands(block)
    assert {"pg_dump", "pg_restore", "vms-index", "vms-detections-consumer", "vms-alert-notifier",
            "vms-audit-consumer", "kcat"} <= names, names
    # the vms-index sub-commands the runbook uses are the ones it takes
    text = open(os.path.join(ROOT, "docs", "runbooks", "disaster-recovery.md")).read()
    r = subprocess.run([os.path.join(BUILD, "bin", "vms-index")], capture_output=True, text=True)
    for sub in set(re.findall(r"vms-index (\w+) ", text)):
        assert f"vms-index {sub} " in r.stdout + r.stderr, sub
    r = subprocess.run([os.path.join(BUILD, "bin", "vms-detections-consumer"), "--help"],
                       capture_output=True, text=True)
    assert "--replay-dlq" in r.stdout + r.stderr
