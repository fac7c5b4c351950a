"""Shared fixtures for system tests: real processes on loopback, stopped by PID.

`stack` gives a fresh tests/tools/vmsstack.Stack per test in its own temp dir;
everything it started is stopped when the test ends, passed or failed, and the
tail of each service's log is printed for a failed test.
"""
import os
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
import vmsstack  # noqa: E402
import logscan  # noqa: E402

BUILD = os.environ.get("VMS_BUILD_DIR") or os.path.join(vmsstack.ROOT, "build")
# Sanitizer builds: processes the tests start report memory errors and UB (and fail), but not
# leaks at exit, which are mostly GStreamer's and FFmpeg's; the unit tests keep leak detection.
os.environ.setdefault("ASAN_OPTIONS", "detect_leaks=0")


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _stack(request, **kw):
    work = tempfile.mkdtemp(prefix="vms-test-")
    st = vmsstack.Stack(BUILD, work, **kw)
    yield st
    failed = any(getattr(request.node, f"rep_{w}", None) is not None and getattr(request.node, f"rep_{w}").failed
                 for w in ("setup", "call"))
    if failed:
        for svc in st.services:
            sys.stderr.write(svc.tail(40))
            if hasattr(svc, "error_log"):
                sys.stderr.write(vmsstack.tail(svc.error_log, 40))
    st.stop()
    # No credential in any log of any stack (issue #20 item 3; tests/system/logscan.py).
    # VMS_LOG_SCAN=0 turns the check off.
    leaks = logscan.scan(work) if os.environ.get("VMS_LOG_SCAN", "1") != "0" else []
    if failed and os.environ.get("VMS_KEEP_WORK"):
        sys.stderr.write(f"work dir kept: {work}\n")
    else:
        shutil.rmtree(work, ignore_errors=True)
    if leaks:
        pytest.fail("credentials in the stack's logs:\n" + logscan.report(leaks), pytrace=False)


@pytest.fixture
def stack(request):
    yield from _stack(request)


@pytest.fixture
def tls_stack(request):
    """A stack with Stack(tls=True): certificates by auto/certs.sh, nginx HTTPS, PostgreSQL TLS."""
    yield from _stack(request, tls=True)


@pytest.fixture
def build_dir():
    return BUILD
