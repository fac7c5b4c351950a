"""Rebuilding while a stack serves from the same build dir leaves the stack running (#18).

A build used to copy each module .so over the installed one, rewriting in place the file a running
nginx has mapped: every worker crashed ("exited on signal 11"), and `./build.sh run`, which builds
before it stops the old stack, hit it every time. Here a stack serves from a copy of the build dir
under test (timestamps kept, so make sees it up to date) while `./build.sh build` runs on that copy
with the same flags: once with nothing changed (nothing may be rewritten), once after forcing a
relink of a module and of vmsd (their new files must arrive as new inodes, by rename).
"""
import os
import shutil
import signal
import subprocess

import vmsstack
import vmsdtest

ROOT = vmsstack.ROOT
MODULE = "ngx_http_vms_auth_module"


def rebuild(build):
    env = dict(os.environ, VMS_BUILD_DIR=build, VMS_SKIP_INSTALL="1",
               VMS_SANITIZE="1" if os.path.exists(os.path.join(build, ".sanitize")) else "0")
    r = subprocess.run([os.path.join(ROOT, "build.sh"), "build"], env=env, capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr


def outputs(build):
    """Every file the build installs for a stack to run, with (inode, mtime)."""
    files = [os.path.join(build, "modules", f) for f in os.listdir(os.path.join(build, "modules"))
             if f.endswith(".so")]
    files += [os.path.join(build, "bin", f) for f in os.listdir(os.path.join(build, "bin"))]
    st = {f: os.stat(f) for f in files}
    return {f: (s.st_ino, s.st_mtime_ns) for f, s in st.items()}


def make_newer(path, than):
    """Set path's mtime past than's, so make must rebuild what depends on path."""
    t = max(os.stat(than).st_mtime_ns, os.stat(path).st_mtime_ns) + 1_000_000_000
    os.utime(path, ns=(t, t))


def workers(master_pid):
    with open(f"/proc/{master_pid}/task/{master_pid}/children") as f:
        return set(f.read().split())


def status(url):
    try:
        return vmsstack.http_get(url)[0]
    except OSError as e:
        return f"no answer ({e})"


def assert_serving(ngx, v):
    """nginx answers /health and runs the auth module's code (no token: 401); vmsd answers."""
    got = [(status(ngx.url("/health")), status(ngx.url("/api/auth/check/cam1"))) for _ in range(5)]
    with open(ngx.error_log, errors="replace") as f:
        crashes = [line.strip() for line in f if "exited on signal" in line]
    assert not crashes, crashes[:5]
    assert got == [(200, 401)] * 5
    assert status(v.api + "/health") == 200


def test_rebuild_while_serving_keeps_nginx_and_vmsd_up(tmp_path, build_dir):
    build = str(tmp_path / "build")
    shutil.copytree(build_dir, build, symlinks=True)   # copy2 keeps mtimes: make sees what is up to date
    rebuild(build)   # sources edited since build_dir was built: brought up to date before anything runs
    st = vmsstack.Stack(build, str(tmp_path / "work"))
    try:
        r = st.redis()
        ngx = st.nginx(vars={"REDIS_ADDR": r.addr, "KAFKA_BROKERS": "127.0.0.1:9"})
        v = st.vmsd(text=vmsdtest.conf_text(None, [], redis=r))
        assert_serving(ngx, v)

        # Nothing changed: nothing is relinked or rewritten.
        before = outputs(build)
        rebuild(build)
        assert_serving(ngx, v)
        assert outputs(build) == before

        # A module and vmsd relinked: each arrives as a new file, the running ones keep theirs.
        so = os.path.join(build, "modules", MODULE + ".so")
        vmsd = os.path.join(build, "bin", "vmsd")
        make_newer(os.path.join(build, "nginx", "objs", "addon", "auth", MODULE + ".o"),
                   os.path.join(build, "nginx", "objs", MODULE + ".so"))
        make_newer(os.path.join(build, "obj", "sidecar", "main.o"), vmsd)
        rebuild(build)
        after = outputs(build)
        assert after[so][0] != before[so][0], "module not reinstalled"
        assert after[vmsd][0] != before[vmsd][0], "vmsd not relinked"
        assert_serving(ngx, v)
        assert v.alive()

        # A reload loads the modules again in new workers; they serve too.
        old = workers(ngx.pid)
        ngx.signal(signal.SIGHUP)
        vmsstack.wait_for("new nginx workers", lambda: workers(ngx.pid) and not workers(ngx.pid) & old,
                          30, ngx.proc, ngx.error_log)
        assert_serving(ngx, v)
        assert not [f for f in os.listdir(os.path.join(build, "modules")) if "tmp" in f]
    finally:
        st.stop()
