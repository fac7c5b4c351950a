#!/usr/bin/python3
"""vmsstack: starts the vms stack's processes on loopback and stops them by PID.

Used by `./build.sh run` / `./build.sh stop` and by the system tests (through
tests/system/conftest.py).  Every service listens on 127.0.0.1 only, on a free
port unless one is asked for, writes its log under the stack's work directory,
and is stopped by PID (SIGTERM, then SIGKILL of its process group).  Logs are
appended across runs of the same work directory (`./build.sh run` after `stop`);
Service.wait_line() and Service.output() see only what this process wrote.

    st = Stack(build_dir, workdir)      # tls=True: auto/certs.sh into WORK/tls, nginx HTTPS, PG TLS
    r = st.redis(); pg = st.postgres(); k = st.kafka()
    cams = st.camsim(cameras=4)
    ngx = st.nginx(vars={...})          # conf/nginx/*.in rendered with @VARS@
    v = st.vmsd(vars={...})             # conf/vmsd.conf.in rendered, or text=
    ...
    st.stop()
"""

import argparse
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PG_BIN = "/usr/lib/postgresql/15/bin"
RTMP_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so"
NCHAN_MODULE = "/usr/lib/nginx/modules/ngx_nchan_module.so"
PLACEHOLDER = re.compile(r"@([A-Z][A-Z0-9_]*)@")
# a default line goes whole, its newline too: the rendered file has no blank line where it was
DEFAULT_LINE = re.compile(r"^#[ \t]*@default[ \t]+([A-Z][A-Z0-9_]*)[ \t]*(.*)$\n?", re.M)
REQUIRES_LINE = re.compile(r"^#\s*@requires\s+([a-z0-9_ ]+)$", re.M)


ALERTMANAGER_BIN = "prometheus-alertmanager"   # Debian's name of alertmanager
ALERT_RULES = os.path.join(ROOT, "conf", "prometheus", "alerts.yml")



def redis_ping(port, password=None):
    """True when Redis (or its tunnel) on 127.0.0.1:port answers PING, after AUTH if a password."""
    with socket.create_connection(("127.0.0.1", port), 1) as s:
        if password is not None:
            s.sendall(f"AUTH {password}\r\n".encode())
            if not s.recv(16).startswith(b"+OK"):
                return False
        s.sendall(b"PING\r\n")
        return s.recv(16).startswith(b"+PONG")

class StackError(RuntimeError):
    pass


_held_ports = []   # lock files kept open: a port handed out stays ours until we exit


def _port_range():
    """Ports below the kernel's ephemeral range: no outgoing connection of any
    process on the machine (ours included) takes one between the pick and the
    bind of the server it was picked for, as a port from bind(0) can be."""
    try:
        low, high = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    if low > 12000:
        return 10000, low - 1
    return high + 1, 65535


def free_port():
    """A loopback TCP port nobody listens on, held against the other test
    workers through a lock file in the temp dir."""
    import fcntl
    import random
    lo, hi = _port_range()
    lockdir = os.path.join(tempfile.gettempdir(), f"vms-ports-{os.getuid()}")
    os.makedirs(lockdir, exist_ok=True)
    for _ in range(2000):
        port = random.randint(lo, hi)
        fd = os.open(os.path.join(lockdir, str(port)), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                os.close(fd)
                continue
        _held_ports.append(fd)
        return port
    raise StackError(f"no free port in {lo}-{hi}")


def wait_for(what, check, timeout=30.0, proc=None, log=None):
    """Poll check() until it returns a true value; fail with the log's tail."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StackError(f"{what} exited with {proc.returncode}\n{tail(log)}")
        try:
            v = check()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last = e
        time.sleep(0.1)
    raise StackError(f"{what} not ready after {timeout} s ({last})\n{tail(log)}")


def tail(path, n=30):
    if not path or not os.path.exists(path):
        return ""
    with open(path, errors="replace") as f:
        lines = f.readlines()
    return f"--- {path} (last {n} lines)\n" + "".join(lines[-n:])


def http_get(url, timeout=2.0, headers=None, context=None):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=timeout,
                                    context=context) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


# Per-node storage (docs/scale-out.md): what the front's playback locations (server.d/playback.conf.in)
# do instead of reading recordings: playlists, timelines, /list and clips from vms-playback-router;
# media from the node its URI names, with only the rebase arguments (never the caller's token).
PLAYBACK_ROUTE = ("proxy_pass http://vms_pb_router; proxy_set_header X-VMS-Args $args; "
                  "proxy_set_header X-VMS-Session $vms_limit_session; "
                  "proxy_set_header X-VMS-Base-URL $scheme://$http_host;")
PLAYBACK_MEDIA_ROUTE = ("if ($vms_pb_node = \"\") { return 400 '{\"status\":\"error\",\"error\":"
                        "\"node: not a playback node\"}\\n'; } "
                        "proxy_pass http://vms_pb_node_$vms_pb_node$uri?s=$arg_s&t=$arg_t; "
                        "proxy_hide_header Access-Control-Allow-Origin;")


def render(text, variables, name="template"):
    """Replace @NAME@; `# @default NAME value` lines give defaults; unknown names are an error."""
    values = dict(DEFAULT_LINE.findall(text))
    values.update({k: str(v) for k, v in variables.items()})

    def sub(m):
        if m.group(1) not in values:
            raise StackError(f"{name}: no value for @{m.group(1)}@")
        return values[m.group(1)]

    body = DEFAULT_LINE.sub("", text)
    # Comment lines are kept as written: they may talk about @NAME@ placeholders.
    return "".join(line if line.lstrip().startswith("#") else PLACEHOLDER.sub(sub, line)
                   for line in body.splitlines(keepends=True))


class Certs:
    """A directory auto/certs.sh keeps: ca.crt, and NAME.crt / NAME.key per service."""

    SCRIPT = os.path.join(ROOT, "auto", "certs.sh")

    def __init__(self, d):
        self.dir = d
        self.ca = os.path.join(d, "ca.crt")

    def crt(self, name):
        return os.path.join(self.dir, f"{name}.crt")

    def key(self, name):
        return os.path.join(self.dir, f"{name}.key")

    def issue(self, *services, days=None, renew=False, clock=None):
        """Runs auto/certs.sh (only for `services` if named); returns what it printed.
        clock: a faketime(1) time spec the script runs at (e.g. '-2y': a certificate that has
        expired whatever today's date)."""
        argv = [self.SCRIPT, self.dir, *services]
        if days is not None:
            argv += ["--days", str(days)]
        if renew:
            argv.append("--renew")
        if clock is not None:
            argv = ["faketime", "-f", clock] + argv
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if r.returncode:
            raise StackError(f"auto/certs.sh failed: {r.stderr.strip()}")
        return r.stdout


def tls_context(ca):
    """A client context that verifies the server against `ca` (and its host name)."""
    ctx = ssl.create_default_context(cafile=ca)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


class Service:
    """One process: started detached in its own session, stopped by PID."""

    def __init__(self, name, argv, log, env=None, cwd=None, stop_signal=signal.SIGTERM):
        self.name, self.argv, self.log = name, argv, log
        self.stop_signal = stop_signal
        with open(log, "ab") as out:
            # Logs are appended across runs (`./build.sh run` after `stop` reuses var/logs):
            # wait_line() reads only what this process wrote, never an earlier run's line.
            self.log_start = out.tell()
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env,
                                         cwd=cwd, start_new_session=True, stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def output(self):
        """What this process has written to its log so far (not earlier runs' lines)."""
        with open(self.log, "rb") as f:
            f.seek(self.log_start)
            return f.read().decode(errors="replace")

    def wait_line(self, pattern, timeout=30.0):
        rx = re.compile(pattern)

        def found():
            return rx.search(self.output())
        return wait_for(self.name, found, timeout, self.proc, self.log)

    def signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def stop(self, timeout=15.0):
        if self.alive():
            try:
                os.kill(self.pid, signal.SIGCONT)
                os.kill(self.pid, self.stop_signal)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        kill_group(self.pid)
        self.proc.poll()

    def tail(self, n=30):
        return tail(self.log, n)


def kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class Stack:
    def __init__(self, build_dir=None, workdir=None, tls=False):
        self.build = os.path.abspath(build_dir or os.environ.get("VMS_BUILD_DIR") or os.path.join(ROOT, "build"))
        self.work = os.path.abspath(workdir or os.path.join(ROOT, "var"))
        os.makedirs(self.work, exist_ok=True)
        os.chmod(self.work, 0o755)   # PostgreSQL runs as another user and must traverse it
        self.logs = self.path("logs")
        self.services = []
        self.sanitized = os.path.exists(os.path.join(self.build, ".sanitize"))
        # tls: certificates of auto/certs.sh in WORK/tls (kept across runs, reissued when due);
        # nginx serves HTTPS (HTTP/2) besides its loopback HTTP port, PostgreSQL only TLS on TCP,
        # and pg.dsn / pg.url verify it (sslmode=verify-full) with the CA.
        self.tls = None
        if tls:
            self.tls = Certs(self.path("tls"))
            self.tls_issued = self.tls.issue()

    # -- helpers -----------------------------------------------------------
    def path(self, *parts, mkdir=True):
        p = os.path.join(self.work, *parts)
        if mkdir:
            os.makedirs(p, exist_ok=True)
        return p

    def bin(self, name):
        p = os.path.join(self.build, "bin", name)
        if not os.path.exists(p):
            raise StackError(f"{p} not built (./build.sh)")
        return p

    def _start(self, name, argv, env=None, **kw):
        svc = Service(name, argv, os.path.join(self.logs, f"{name}.log"), env=env, **kw)
        self.services.append(svc)
        return svc

    def _env(self, sanitized_preload=False):
        env = dict(os.environ)
        if self.sanitized:
            env.setdefault("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0")
            env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
            if sanitized_preload:
                cc = shutil.which("gcc") or "cc"
                asan = subprocess.run([cc, "-print-file-name=libasan.so"], capture_output=True,
                                      text=True).stdout.strip()
                env["LD_PRELOAD"] = asan
        return env

    def service_token(self, sub, ttl=86400, **claims):
        """A token signed with the stack's HS256 secret, the key vms_auth and vmsd's API check
        (docs/vmsd.md, "API authentication"): admin unless claims say otherwise."""
        import jwt   # python3-jwt
        with open(self.secret_file()) as f:
            key = f.read().strip()
        now = int(time.time())
        body = {"sub": sub, "role": "admin", "iat": now, "exp": now + ttl}
        body.update(claims)
        return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm="HS256")

    def token_file(self, name, sub, **claims):
        """service_token() in secrets/NAME (0600), for a client that reads its credential from a
        file (Prometheus' credentials_file)."""
        path = os.path.join(self.path("secrets"), name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.service_token(sub, **claims))
        return path

    def secret_file(self, name="jwt_hs256.key"):
        """A random secret kept in the work dir (tests and `run` mint tokens with it)."""
        d = self.path("secrets")
        os.chmod(d, 0o700)
        p = os.path.join(d, name)
        if not os.path.exists(p):
            with open(p, "w") as f:
                f.write(secrets.token_hex(32))
            os.chmod(p, 0o600)
        return p

    # -- services ------------------------------------------------------------
    def redis(self, port=None, name="redis", password=None, tls_port=None):
        """redis-server on loopback; password: requirepass, given in a 0600 config file (a
        `--requirepass` argument would show in ps and /proc/PID/cmdline).
        Stack(tls=True): Redis listens only on `tls_port` (TLS, `port 0`) and asks clients for a
        certificate of the CA (mutual TLS); stunnel in client mode on `port` (loopback) is the
        endpoint nginx, vmsd and vms-login use (docs/security.md, "Transport (TLS)"): svc.addr,
        svc.port name the tunnel, svc.tls_port Redis itself, svc.tunnel the stunnel Service."""
        if self.tls:
            return self._redis_tls(port, name, password, tls_port)
        port = port or free_port()
        d = self.path(name)
        argv = ["redis-server"]
        if password is not None:
            conf = os.path.join(d, "redis.conf")
            fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(f"requirepass {password}\n")
            argv.append(conf)
        svc = self._start(name, argv + ["--port", str(port), "--bind", "127.0.0.1",
                                        "--save", "", "--appendonly", "no", "--dir", d,
                                        "--protected-mode", "yes"])
        svc.port, svc.addr, svc.password = port, f"127.0.0.1:{port}", password
        wait_for(name, lambda: redis_ping(port, password), 15, svc.proc, svc.log)
        return svc

    def _redis_tls(self, port, name, password, tls_port):
        tls_port = tls_port or free_port()
        d = self.path(name)
        conf = os.path.join(d, "redis.conf")
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("# written by tests/tools/vmsstack.py (Stack(tls=True)): TLS only, mutual\n"
                    f"port 0\ntls-port {tls_port}\nbind 127.0.0.1\n"
                    f"tls-cert-file {self.tls.crt('redis')}\ntls-key-file {self.tls.key('redis')}\n"
                    f"tls-ca-cert-file {self.tls.ca}\ntls-auth-clients yes\n"
                    "tls-protocols \"TLSv1.2 TLSv1.3\"\n")
            if password is not None:
                f.write(f"requirepass {password}\n")
        svc = self._start(name, ["redis-server", conf, "--save", "", "--appendonly", "no", "--dir", d,
                                 "--protected-mode", "yes"])
        svc.tls_port, svc.password = tls_port, password
        svc.wait_line(r"Ready to accept connections", 15)
        tun = self.redis_tunnel(svc, port=port, name=f"{name}-stunnel")
        svc.tunnel, svc.port, svc.addr = tun, tun.port, tun.addr
        wait_for(name, lambda: redis_ping(svc.port, password), 15, tun.proc, tun.log)
        return svc

    def redis_tunnel(self, redis, port=None, name="redis-stunnel", ca=None, check_host="redis"):
        """stunnel4 in client mode: plain Redis protocol on 127.0.0.1:port, TLS to redis.tls_port,
        the server verified against `ca` (the stack's CA unless given) and its name `check_host`;
        the client certificate is the host's (nginx's: nginx, vmsd and vms-login share it)."""
        port = port or free_port()
        stunnel = shutil.which("stunnel4") or shutil.which("stunnel")
        if not stunnel:
            raise StackError("stunnel missing: install Debian package stunnel4 (auto/packages.sh)")
        d = self.path(name)
        conf = os.path.join(d, "stunnel.conf")
        with open(conf, "w") as f:
            f.write("; written by tests/tools/vmsstack.py: Redis TLS client tunnel\n"
                    "foreground = yes\npid =\n\n[redis]\nclient = yes\n"
                    f"accept = 127.0.0.1:{port}\nconnect = 127.0.0.1:{redis.tls_port}\n"
                    f"verifyChain = yes\nCAfile = {ca or self.tls.ca}\ncheckHost = {check_host}\n"
                    f"cert = {self.tls.crt('nginx')}\nkey = {self.tls.key('nginx')}\n"
                    "sslVersionMin = TLSv1.2\n")
        svc = self._start(name, [stunnel, conf])
        svc.port, svc.addr = port, f"127.0.0.1:{port}"
        svc.wait_line(r"Configuration successful", 15)
        return svc

    def postgres(self, port=None, name="postgres", password=None):
        """PostgreSQL via initdb; password: TCP clients must then authenticate (scram-sha-256)
        as postgres with it, and pg.dsn / pg.url carry it (give them to programs in a file
        or the environment, never as an argument)."""
        if password is not None and self.tls:
            raise StackError("postgres(password=...) is not combined with tls yet")
        port = port or free_port()
        d = self.path(name)
        as_pg = []
        if os.geteuid() == 0:   # PostgreSQL refuses to run as root
            as_pg = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"]
            if subprocess.run(as_pg + ["test", "-x", self.work]).returncode != 0:
                # The work dir sits below a directory postgres cannot traverse (/root, a 0700
                # temp dir): keep the cluster in a traversable place of its own, named by the work dir.
                tag = hashlib.sha256(self.work.encode()).hexdigest()[:12]
                d = os.path.join(tempfile.gettempdir(), f"vms-{name}-{tag}")
                os.makedirs(d, exist_ok=True)
                os.chmod(d, 0o755)
            shutil.chown(d, "postgres", "postgres")
        data = os.path.join(d, "data")
        tls_args = self._postgres_tls(d, as_pg) if self.tls else []
        if password is not None:
            tls_args = self._postgres_password_hba(d, as_pg)
        if not os.path.exists(os.path.join(data, "PG_VERSION")):
            r = subprocess.run(as_pg + [f"{PG_BIN}/initdb", "-D", data, "-A", "trust", "-U", "postgres",
                                        "-E", "UTF8", "--no-sync"], capture_output=True, text=True)
            if r.returncode:
                raise StackError(f"initdb failed: {r.stderr[-2000:]}")
        svc = self._start(name, as_pg + [f"{PG_BIN}/postgres", "-D", data, "-p", str(port), "-k", d,
                                         "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                                         "-c", "full_page_writes=off", *tls_args],
                          stop_signal=signal.SIGINT)
        svc.port = port
        svc.dsn = f"host=127.0.0.1 port={port} dbname=vms user=postgres"
        svc.url = f"postgresql://postgres@127.0.0.1:{port}/vms"
        if self.tls:
            svc.dsn += f" sslmode=verify-full sslrootcert={self.tls.ca}"
            svc.url += f"?sslmode=verify-full&sslrootcert={self.tls.ca}"

            def reload_tls():   # after auto/certs.sh reissued the postgres certificate
                self._postgres_tls(d, as_pg)
                svc.signal(signal.SIGHUP)
            svc.reload_tls = reload_tls

        def ready():
            return subprocess.run([f"{PG_BIN}/pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)]).returncode == 0
        wait_for(name, ready, 30, svc.proc, svc.log)
        # with a password, TCP wants it: the harness's own statements go over the socket
        psql = ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", d if password is not None else "127.0.0.1",
                "-p", str(port), "-U", "postgres"]
        subprocess.run(psql + ["-d", "postgres", "-c", "CREATE DATABASE vms"], capture_output=True)
        schema = os.path.join(ROOT, "conf", "schema.sql")
        if os.path.exists(schema):
            r = subprocess.run(psql + ["-d", "vms", "-f", schema], capture_output=True, text=True)
            if r.returncode:
                raise StackError(f"conf/schema.sql failed: {r.stderr[-2000:]}")
        if password is not None:   # over the socket (trust), on psql's stdin, not its argv
            lit = password.replace("'", "''")
            r = subprocess.run(psql + ["-d", "postgres", "-f", "-"], capture_output=True, text=True,
                               input=f"ALTER USER postgres PASSWORD '{lit}';\n")
            if r.returncode:
                raise StackError(f"setting the postgres password failed: {r.stderr[-2000:]}")
            svc.password = password
            svc.dsn += f" password={password}"
            svc.url = svc.url.replace("postgresql://postgres@", f"postgresql://postgres:{password}@")
        return svc

    def _postgres_password_hba(self, d, as_pg):
        """TCP clients authenticate with scram-sha-256; the socket (the harness's own psql)
        stays trust."""
        hba = os.path.join(d, "pg_hba_password.conf")
        with open(hba, "w") as f:
            f.write("# written by tests/tools/vmsstack.py (postgres(password=...))\n"
                    "local all all trust\n"
                    "host all all 127.0.0.1/32 scram-sha-256\n"
                    "host all all ::1/128 scram-sha-256\n")
        if as_pg:
            shutil.chown(hba, "postgres", "postgres")
        return ["-c", f"hba_file={hba}"]

    def _postgres_tls(self, d, as_pg):
        """ssl=on with the postgres certificate, and an hba file that takes TCP clients over TLS
        only (the socket stays trust). The key is copied for the server's user: PostgreSQL
        refuses a key file another user owns unless it is root's and group-readable."""
        tdir = os.path.join(d, "tls")
        os.makedirs(tdir, exist_ok=True)
        crt, key = os.path.join(tdir, "server.crt"), os.path.join(tdir, "server.key")
        for src, dst, mode in ((self.tls.crt("postgres"), crt, 0o644), (self.tls.key("postgres"), key, 0o600)):
            tmp = dst + ".new"
            shutil.copyfile(src, tmp)
            os.chmod(tmp, mode)
            if as_pg:
                shutil.chown(tmp, "postgres", "postgres")
            os.replace(tmp, dst)
        hba = os.path.join(tdir, "pg_hba.conf")
        with open(hba, "w") as f:
            f.write("# written by tests/tools/vmsstack.py (Stack(tls=True)): TCP only over TLS\n"
                    "local all all trust\n"
                    "hostssl all all 127.0.0.1/32 trust\n"
                    "hostssl all all ::1/128 trust\n")
        if as_pg:
            shutil.chown(tdir, "postgres", "postgres")
            shutil.chown(hba, "postgres", "postgres")
        return ["-c", "ssl=on", "-c", f"ssl_cert_file={crt}", "-c", f"ssl_key_file={key}",
                "-c", "ssl_min_protocol_version=TLSv1.2", "-c", f"hba_file={hba}"]

    def kafka(self, name="kafka-broker", brokers=1):
        """librdkafka's mock cluster; topics and partitions as conf/kafka/topics.json says (the mock
        has no CreateTopics, so vms-topics cannot create them there)."""
        with open(os.path.join(ROOT, "conf", "kafka", "topics.json")) as f:
            topics = [a for t in json.load(f)["topics"] for a in ("--topic", f"{t['name']}:{t['partitions']}")]
        svc = self._start(name, [self.bin("kafka-broker"), "--brokers", str(brokers), *topics])
        m = svc.wait_line(r"kafka-broker: ready (\S+)", 15)
        svc.bootstrap = m.group(1)

        def switch(sig, state):
            # returns once the broker says it switched: a test acts on the outage, not on a guess
            line = f"kafka-broker: brokers {state}"
            with open(svc.log, errors="replace") as f:
                seen = f.read().count(line)
            svc.signal(sig)

            def done():
                with open(svc.log, errors="replace") as f:
                    return f.read().count(line) > seen
            wait_for(f"{name} {state}", done, 15, svc.proc, svc.log)
        svc.down = lambda: switch(signal.SIGUSR1, "down")
        svc.up = lambda: switch(signal.SIGUSR2, "up")
        return svc

    def camsim(self, cameras=4, port=None, control_port=None, args=(), name="camsim"):
        port, cport = port or free_port(), control_port or free_port()
        svc = self._start(name, [self.bin("camsim"), "--port", str(port), "--control-port", str(cport),
                                 "--cameras", str(cameras), *args])
        svc.wait_line(r"camsim: ready", 120)
        svc.port, svc.control_port = port, cport
        svc.control = f"http://127.0.0.1:{cport}"
        svc.url = lambda cam: f"rtsp://127.0.0.1:{port}/camera/{cam}"

        def control(cam, action, **query):
            q = "&".join(f"{k}={v}" for k, v in query.items())
            req = urllib.request.Request(f"{svc.control}/camera/{cam}/{action}" + (f"?{q}" if q else ""),
                                         data=b"", method="POST")
            with urllib.request.urlopen(req, timeout=5) as r:
                return json.loads(r.read() or b"{}")
        svc.fault = control
        return svc

    def nginx_conf(self, name="nginx", vars=None, port=None):
        """Render conf/nginx/ into WORK/NAME/conf; returns (prefix, conf path, variables)."""
        prefix = self.path(name)
        for sub in ("logs", "tmp", "conf"):
            self.path(name, sub)
        conf_dir = os.path.join(prefix, "conf")
        modules = sorted(f for f in os.listdir(os.path.join(self.build, "modules"))
                         if f.endswith(".so")) if os.path.isdir(os.path.join(self.build, "modules")) else []
        present = {m[len("ngx_http_vms_"):-len("_module.so")] for m in modules}
        loads = [f"load_module {RTMP_MODULE};"] if os.path.exists(RTMP_MODULE) else []
        loads += [f"load_module {os.path.join(self.build, 'modules', m)};" for m in modules]
        # Live push (docs/events.md): nchan, loaded after our modules.  nchan exports the hiredis
        # it bundles; nginx dlopens modules RTLD_GLOBAL, so a module loaded after it would bind
        # redisAsync* to nchan's copy (another hiredis version: workers crash at the first connect).
        if os.path.exists(NCHAN_MODULE):
            loads.append(f"load_module {NCHAN_MODULE};")
            present.add("nchan")
        v = {
            "ROOT": ROOT, "BUILD": self.build, "PREFIX": prefix, "WORK": self.work,
            "HTTP_PORT": port or free_port(), "RTMP_PORT": free_port(), "PUSH_PORT": free_port(),
            "LOAD_MODULES": "\n".join(loads), "HTML_DIR": os.path.join(ROOT, "html"),
            "RECORDINGS": self.path("recordings"), "USER": "root" if os.geteuid() == 0 else "nobody",
            "JWT_SECRET_FILE": self.secret_file(), "EXTRA_HTTP": "", "EXTRA_SERVER": "",
            "EXTRA_MAIN": "", "LIMIT_SESSION_KEY_FILE": self.secret_file("limit_session.key"),
        }
        if self.tls:   # server.d/tls.conf.in (`# @requires tls`): the HTTPS listener
            v.update({"HTTPS_PORT": free_port(), "TLS_CERT": self.tls.crt("nginx"),
                      "TLS_KEY": self.tls.key("nginx")})
        v.update(vars or {})
        if v.get("TLS_CERT"):
            present.add("tls")
        if v.get("PLAYBACK_NODES"):   # per-node storage, the front (docs/scale-out.md)
            present.add("playback_nodes")
            nodes = [n.split("=", 1) for n in v["PLAYBACK_NODES"].split(",")]
            v["PLAYBACK_NODE_UPSTREAMS"] = "\n".join(f"upstream vms_pb_node_{n} {{ server {a}; }}"
                                                     for n, a in nodes)
            v["PLAYBACK_NODE_MAP"] = "\n".join(f"    {n} {n};" for n, _ in nodes)
            v.setdefault("PLAYBACK_ROUTE", PLAYBACK_ROUTE)
            v.setdefault("PLAYBACK_MEDIA_ROUTE", PLAYBACK_MEDIA_ROUTE)
        if v.get("PLAYBACK_NODE_LISTEN"):   # per-node storage, a node's recordings (http.d/playback_node)
            present.add("playback_node")
        if v.get("VMSD_CA"):     # server.d/vmsd_tls.conf.in: vmsd's API over verified TLS
            present.add("vmsd_tls")
            v.setdefault("VMSD_SCHEME", "https")
        src = os.path.join(ROOT, "conf", "nginx")
        for sub in ("http.d", "server.d"):
            os.makedirs(os.path.join(conf_dir, sub), exist_ok=True)
            for f in os.listdir(os.path.join(conf_dir, sub)):
                os.unlink(os.path.join(conf_dir, sub, f))
        for dirpath, _, files in os.walk(src):
            for f in files:
                if not f.endswith(".conf.in"):
                    continue
                with open(os.path.join(dirpath, f)) as fh:
                    text = fh.read()
                req = REQUIRES_LINE.search(text)
                if req and not set(req.group(1).split()) <= present:
                    continue   # a module this build does not have
                rel = os.path.relpath(os.path.join(dirpath, f[:-3]), src)
                with open(os.path.join(conf_dir, rel), "w") as out:
                    out.write(render(REQUIRES_LINE.sub("", text), v, f))
        return prefix, os.path.join(conf_dir, "nginx.conf"), v

    def nginx_test(self, name="nginx-t", vars=None):
        prefix, conf, _ = self.nginx_conf(name, vars)
        return subprocess.run(["nginx", "-t", "-p", prefix, "-c", conf, "-e", os.path.join(prefix, "logs", "error.log")],
                              capture_output=True, text=True, env=self._env(True))

    def nginx(self, vars=None, port=None, name="nginx"):
        prefix, conf, v = self.nginx_conf(name, vars, port)
        svc = self._start(name, ["nginx", "-p", prefix, "-c", conf, "-e", os.path.join(prefix, "logs", "error.log"),
                                 "-g", "daemon off;"], env=self._env(True), stop_signal=signal.SIGQUIT)
        svc.port, svc.vars, svc.prefix = int(v["HTTP_PORT"]), v, prefix
        svc.rtmp_port = int(v["RTMP_PORT"])
        svc.push_publisher = f"http://127.0.0.1:{v['PUSH_PORT']}"   # nchan publisher (vms-push)
        svc.url = lambda p="/": f"http://127.0.0.1:{svc.port}{p}"
        svc.error_log = os.path.join(prefix, "logs", "error.log")
        svc.reload = lambda: svc.signal(signal.SIGHUP)
        wait_for(name, lambda: http_get(svc.url("/health"))[0] == 200, 20, svc.proc, svc.error_log)
        if v.get("TLS_CERT"):   # one master bound both ports before /health answered on the first
            svc.https_port = int(v["HTTPS_PORT"])
            svc.https_url = lambda p="/": f"https://127.0.0.1:{svc.https_port}{p}"
        return svc

    def vmsd(self, text=None, vars=None, name="vmsd", port=None, args=(), env=None, wait=True, tls=False,
             api_socket=None):
        """Start vmsd with a config: `text` as is, else conf/vmsd.conf.in rendered with vars.
        tls: the API serves HTTPS with auto/certs.sh's vmsd certificate (a Stack(tls=True));
        svc.api is then https:// and svc.ssl the client context that verifies it.
        api_socket: the API on that unix socket file (svc.socket; nginx's VMSD_API is
        svc.upstream), /metrics and /health on 127.0.0.1:port (metrics_listen)."""
        port = port or free_port()
        d = self.path(name)
        v = {"API_PORT": port, "ROOT": ROOT, "WORK": self.work, "RECORDINGS": self.path("recordings"),
             "STATE": self.path(name, "state"), "JWT_SECRET_FILE": self.secret_file(),
             "LISTEN": f"127.0.0.1:{port}", "METRICS_LISTEN": ""}
        if api_socket:
            v.update({"LISTEN": f"unix:{api_socket}", "METRICS_LISTEN": f"metrics_listen = 127.0.0.1:{port}"})
        v.update(vars or {})
        if text is None:
            with open(os.path.join(ROOT, "conf", "vmsd.conf.in")) as f:
                text = f.read()
        text = render(text, v, "vmsd.conf")
        if tls:
            if not self.tls:
                raise StackError("vmsd(tls=True) needs Stack(tls=True)")
            text = re.sub(r"^\[vmsd\][^\n]*\n", lambda m: m.group(0)
                          + f"api_tls_cert_file = {self.tls.crt('vmsd')}\n"
                          + f"api_tls_key_file = {self.tls.key('vmsd')}\n", text, count=1, flags=re.M)
        conf = os.path.join(d, "vmsd.conf")
        with open(conf, "w") as f:
            f.write(text)
        # vmsd's API checks tokens with the stack's key (VMS_API_TOKEN_SECRET_FILE: the
        # NAME_FILE convention, for configs that do not name api_token_secret_file)
        extra, env = env, self._env()
        env["VMS_API_TOKEN_SECRET_FILE"] = self.secret_file()
        env.update(extra or {})
        svc = self._start(name, [self.bin("vmsd"), "-c", conf, *args], env=env)
        svc.port, svc.conf, svc.socket = port, conf, api_socket
        svc.upstream = f"unix:{api_socket}:" if api_socket else f"127.0.0.1:{port}"
        svc.api = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        svc.ssl = tls_context(self.tls.ca) if tls else None
        # an admin's credential for the API's protected routes (/metrics, /record/...)
        svc.auth = {"Authorization": f"Bearer {self.service_token('test-admin')}"}
        if wait:
            wait_for(name, lambda: http_get(svc.api + "/health", context=svc.ssl)[0] == 200, 30, svc.proc, svc.log)
        return svc

    # -- monitoring (docs/operations.md) ------------------------------------------
    def _render_file(self, src, dst, variables):
        with open(src) as f:
            text = render(f.read(), variables, os.path.basename(src))
        with open(dst, "w") as f:
            f.write(text)
        return dst

    def prometheus_conf(self, vars=None, rules=None, port=None, name="prometheus"):
        """Render conf/prometheus/prometheus.yml.in into WORK/NAME/; returns (path, variables)."""
        v = {"RULES": os.path.abspath(rules or ALERT_RULES), "PORT": port or free_port()}
        v["PROMETHEUS_TARGET"] = f"127.0.0.1:{v['PORT']}"
        # vmsd's /metrics needs a credential: a token that grants MediaMTX's "metrics" action only
        v["VMSD_TOKEN_FILE"] = self.token_file(
            f"{name}-vmsd.token", "prometheus", ttl=366 * 86400, role=None,
            mediamtx_permissions=[{"action": "metrics", "path": ""}])
        v.update(vars or {})
        conf = os.path.join(self.path(name), "prometheus.yml")
        self._render_file(os.path.join(ROOT, "conf", "prometheus", "prometheus.yml.in"), conf, v)
        return conf, v

    def alertmanager_conf(self, vars=None, name="alertmanager"):
        conf = os.path.join(self.path(name), "alertmanager.yml")
        return self._render_file(os.path.join(ROOT, "conf", "alertmanager", "alertmanager.yml.in"),
                                 conf, vars or {})

    def prometheus(self, vars=None, rules=None, port=None, name="prometheus"):
        """Prometheus on loopback with the rendered config; the config and its rule files are
        checked with promtool first (a broken file is a StackError with promtool's message)."""
        conf, v = self.prometheus_conf(vars, rules, port, name)
        check_prometheus(conf)
        port = int(v["PORT"])
        svc = self._start(name, ["prometheus", f"--config.file={conf}",
                                 f"--storage.tsdb.path={self.path(name, 'data')}",
                                 f"--web.listen-address=127.0.0.1:{port}"])
        svc.port, svc.conf = port, conf
        svc.url = f"http://127.0.0.1:{port}"
        wait_for(name, lambda: http_get(svc.url + "/-/ready")[0] == 200, 30, svc.proc, svc.log)
        return svc

    def alertmanager(self, vars=None, port=None, name="alertmanager"):
        """Alertmanager on loopback (no HA cluster port), config checked with amtool first."""
        conf = self.alertmanager_conf(vars, name)
        check_alertmanager(conf)
        port = port or free_port()
        svc = self._start(name, [ALERTMANAGER_BIN, f"--config.file={conf}",
                                 f"--storage.path={self.path(name, 'data')}",
                                 f"--web.listen-address=127.0.0.1:{port}",
                                 "--cluster.listen-address="])
        svc.port, svc.conf = port, conf
        svc.url = f"http://127.0.0.1:{port}"
        wait_for(name, lambda: http_get(svc.url + "/-/ready")[0] == 200, 30, svc.proc, svc.log)
        return svc

    def detections_consumer(self, pg, kafka, args=(), name="detections-consumer", rules=None):
        """vms-detections-consumer (docs/events.md); rules: a path, else conf/review/rules.json."""
        rules = rules or os.path.join(ROOT, "conf", "review", "rules.json")
        # the DSN in the environment: it may carry a password, argv is visible in ps
        svc = self._start(name, [self.bin("vms-detections-consumer"), "--brokers", kafka.bootstrap,
                                 "--rules", rules, *args], env=dict(self._env(), VMS_PG_DSN=pg.dsn))
        svc.wait_line(r"detections-consumer: ready", 60)
        return svc

    def playback_router(self, nodes, name="playback-router", port=None, args=()):
        """vms-playback-router (docs/scale-out.md, "Per-node storage") over nodes {name: "host:port"}
        (each a node nginx started with vars PLAYBACK_NODE_LISTEN); the front nginx gets
        vars svc.front_vars."""
        port = port or free_port()
        spec = ",".join(f"{n}=http://{a}" for n, a in nodes.items())
        svc = self._start(name, [self.bin("vms-playback-router"), "--listen", f"127.0.0.1:{port}", *args],
                          env=dict(self._env(), VMS_PLAYBACK_NODES=spec))
        svc.wait_line(r"playback-router: ready on", 30)
        svc.addr = f"127.0.0.1:{port}"
        svc.front_vars = {"PLAYBACK_ROUTER": svc.addr,
                          "PLAYBACK_NODES": ",".join(f"{n}={a}" for n, a in nodes.items())}
        return svc

    def review_api(self, pg, name="review-api", port=None, args=(), socket=None):
        """vms-review-api (docs/events.md, "Review API"); nginx reaches it via vars REVIEW_API=svc.addr.
        socket: listen on that unix socket file instead of TCP (svc.addr is then nginx's
        "unix:PATH:" upstream, svc.url None)."""
        port = port or free_port()
        listen = f"unix:{socket}" if socket else f"127.0.0.1:{port}"
        svc = self._start(name, [self.bin("vms-review-api"), "--listen", listen, *args],
                          env=dict(self._env(), VMS_PG_DSN=pg.dsn))
        svc.wait_line(r"review-api: ready on", 30)
        svc.socket = socket
        svc.addr = f"unix:{socket}:" if socket else f"127.0.0.1:{port}"
        svc.url = None if socket else (lambda p="/": f"http://{svc.addr}{p}")
        return svc

    def login(self, pg, redis=None, name="login", port=None, args=(), socket=None):
        """vms-login (docs/users.md); nginx reaches it with vars LOGIN_PROXY=svc.proxy. The DSN and
        the JWT key (the stack's, which vms_auth verifies with) go in files, never argv.
        svc.user(*argv, password=None) runs vms-user against the same database (the password on
        stdin with --password-stdin); returns the CompletedProcess.
        socket: listen on that unix socket file instead of TCP (svc.addr "unix:PATH:", svc.url None)."""
        port = port or free_port()
        d = self.path("secrets")
        dsn_file = os.path.join(d, f"{name}.dsn")
        with open(os.open(dsn_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(pg.dsn + "\n")
        argv = [self.bin("vms-login"), "--listen", f"unix:{socket}" if socket else f"127.0.0.1:{port}", "--pg-dsn-file", dsn_file,
                "--jwt-secret-file", self.secret_file()]
        if redis is not None:
            argv += ["--redis", redis.addr]
        svc = self._start(name, [*argv, *args], env=self._env())
        svc.wait_line(r"login: ready on", 30)
        svc.socket = socket
        svc.addr = f"unix:{socket}:" if socket else f"127.0.0.1:{port}"
        svc.proxy = f"proxy_pass http://{svc.addr}"
        svc.url = None if socket else (lambda p="/": f"http://{svc.addr}{p}")
        svc.dsn_file = dsn_file
        env = self._env()
        if redis is not None:    # passwd and disable revoke the sessions' access tokens there
            env["VMS_REDIS_ADDR"] = redis.addr

        def user(*argv, password=None):
            cmd = [self.bin("vms-user"), "--dsn-file", dsn_file, *argv]
            if password is not None:
                cmd.append("--password-stdin")
            return subprocess.run(cmd, input=None if password is None else password + "\n",
                                  capture_output=True, text=True, timeout=60, env=env)
        svc.user = user
        return svc

    def alert_notifier(self, kafka, receivers, args=(), name="alert-notifier"):
        """vms-alert-notifier (docs/events.md); receivers: a path to a receivers.json."""
        svc = self._start(name, [self.bin("vms-alert-notifier"), "--brokers", kafka.bootstrap,
                                 "--receivers", receivers, *args], env=self._env())
        svc.wait_line(r"alert-notifier: ready", 30)
        return svc

    def push(self, kafka, ngx, args=(), name="push", node=None):
        """vms-push (docs/events.md, "Live push"): vms.events + vms.alerts -> ngx's nchan channels.
        Returns once its group has partitions: a message produced after that reaches browsers."""
        svc = self._start(name, [self.bin("vms-push"), "--brokers", kafka.bootstrap,
                                 "--publish", ngx.push_publisher, "--node", node or name, *args],
                          env=self._env())
        svc.wait_line(r"push: assigned partitions \[.+\]", 60)
        return svc

    def secretsmanager(self, secrets, access_key, secret_key, name="fake-secretsmanager"):
        """tests/tools/fake_secretsmanager.py: GetSecretValue for `secrets` ({id: value}), every
        request's SigV4 checked with botocore against (access_key, secret_key).  The key and the
        secrets reach it in 0600 files.  svc.endpoint for VMS_AWS_SM_ENDPOINT; svc.requests()
        what it saw; svc.rotate({id: value})."""
        d = self.path(name)
        paths = {}
        for fname, text in (("secret_key", secret_key), ("secrets.json", json.dumps(secrets))):
            paths[fname] = os.path.join(d, fname)
            fd = os.open(paths[fname], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(text)
        svc = self._start(name, ["/usr/bin/python3", os.path.join(ROOT, "tests", "tools", "fake_secretsmanager.py"),
                                 "--access-key", access_key, "--secret-key-file", paths["secret_key"],
                                 "--secrets", paths["secrets.json"]])
        m = svc.wait_line(r"fake-secretsmanager: ready (\S+)", 15)
        svc.endpoint = f"http://{m.group(1)}/"

        def requests_seen():
            with urllib.request.urlopen(svc.endpoint + "_fake/requests", timeout=5) as r:
                return json.loads(r.read())

        def rotate(values):
            req = urllib.request.Request(svc.endpoint + "_fake/secrets", data=json.dumps(values).encode(),
                                         method="POST")
            urllib.request.urlopen(req, timeout=5).read()
        svc.requests, svc.rotate = requests_seen, rotate
        return svc

    def stop(self):
        for svc in reversed(self.services):
            svc.stop()
        self.services.clear()

    def pids(self):
        return {s.name: s.pid for s in self.services if s.alive()}


def _tool_check(argv, what):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise StackError(f"{argv[0]} not found (Debian packages prometheus, prometheus-alertmanager;"
                         " ./build.sh installs them)") from None
    if r.returncode:
        raise StackError(f"{what} failed ({' '.join(argv)}):\n{(r.stdout + r.stderr).strip()}")
    return r.stdout


def check_prometheus(conf):
    """`promtool check config`: the config and every rule file it names."""
    return _tool_check(["promtool", "check", "config", conf], "promtool check config")


def check_alertmanager(conf):
    return _tool_check(["amtool", "check-config", conf], "amtool check-config")


# -- ./build.sh run / stop -------------------------------------------------------

VAR = os.path.abspath(os.environ.get("VMS_VAR_DIR") or os.path.join(ROOT, "var"))
STATE = os.path.join(VAR, "run", "stack.json")


def camera_sections(cams, n):
    """vmsd.conf camera sections for camsim's cam1..camN (the template has @CAMERA_SECTIONS@)."""
    return "\n".join(f"[camera cam{i}]\nurl = {cams.url(f'cam{i}')}\n" for i in range(1, n + 1))


def seed_cameras(v, cams, n):
    """camsim's cam1..camN created through vmsd's cameras API (one that exists is left as it is).
    The API listens a moment before vmsd's cluster has started and answers 503 meanwhile: retried
    for up to 30 s."""
    for i in range(1, n + 1):
        deadline = time.monotonic() + 30
        while True:
            req = urllib.request.Request(f"{v.api}/cameras/item?camera=cam{i}", method="POST",
                                         data=json.dumps({"url": cams.url(f"cam{i}")}).encode(),
                                         headers={**v.auth, "Content-Type": "application/json"})
            try:
                urllib.request.urlopen(req, timeout=15, context=v.ssl).close()
                break
            except urllib.error.HTTPError as e:
                if e.code == 409 and b"exists" in e.read():
                    break
                if e.code != 503 or time.monotonic() > deadline:
                    raise StackError(f"vmsd refused camera cam{i}: {e.code}")
                time.sleep(0.2)


def env_port(name, default):
    return int(os.environ.get(name, default))


def first_admin(login, name="admin"):
    """A first admin for `run` when the database has none of that name: a generated password,
    written only to a 0600 file in the run's state dir (never to a log or argv). Returns its path."""
    path = os.path.join(os.path.dirname(STATE), "admin.password")
    listed = login.user("list", "--json")
    if listed.returncode != 0:
        raise StackError(f"vms-user list: {listed.stderr.strip()}")
    if any(u["username"] == name for u in json.loads(listed.stdout or "[]")):
        return path if os.path.exists(path) else f"{path} (missing: vms-user passwd {name})"
    import secrets
    password = secrets.token_urlsafe(15)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(password + "\n")
    added = login.user("add", name, "--role", "admin", "--plan", "enterprise", password=password)
    if added.returncode != 0:
        raise StackError(f"vms-user add {name}: {added.stderr.strip()}")
    return path


def run(args):
    if os.path.exists(STATE):
        stop(args, quiet=True)
    try:
        st = Stack(args.build, VAR, tls=args.tls)
    except StackError as e:
        print(f"run: {e}", file=sys.stderr)
        return 1
    am_port = env_port("VMS_ALERTMANAGER_PORT", 9193)
    prom_port = env_port("VMS_PROMETHEUS_PORT", 9190)
    rules = os.environ.get("VMS_ALERT_RULES") or ALERT_RULES
    prom_vars = {"VMSD_TARGET": f"127.0.0.1:{env_port('VMS_API_PORT', 8091)}",
                 "NGINX_TARGET": f"127.0.0.1:{env_port('VMS_HTTP_PORT', 8080)}",
                 "ALERTMANAGER_TARGET": f"127.0.0.1:{am_port}"}
    if st.tls:   # vmsd's API serves HTTPS: Prometheus verifies it with the stack's CA
        prom_vars.update({"VMSD_SCHEME": "https", "VMSD_TLS_CONFIG": f"{{ca_file: {st.tls.ca}}}"})
    am_vars = {}
    if os.environ.get("VMS_ALERT_WEBHOOK_URL"):
        am_vars["WEBHOOK_URL"] = os.environ["VMS_ALERT_WEBHOOK_URL"]
    try:
        # Monitoring configs are checked before anything starts: a broken alerts file stops
        # `run` with promtool's message instead of a stack that silently never alerts.
        check_prometheus(st.prometheus_conf(prom_vars, rules, prom_port)[0])
        check_alertmanager(st.alertmanager_conf(am_vars))
    except StackError as e:
        print(f"run: {e}", file=sys.stderr)
        return 1
    try:
        r = st.redis(port=env_port("VMS_REDIS_PORT", 6390),
                     tls_port=env_port("VMS_REDIS_TLS_PORT", 6391) if st.tls else None)
        pg = st.postgres(port=env_port("VMS_PG_PORT", 5440))
        k = st.kafka()
        topics = subprocess.run([st.bin("vms-topics"), "--brokers", k.bootstrap, "--timeout", "2s", "--file",
                                 os.path.join(ROOT, "conf", "kafka", "topics.json")],
                                capture_output=True, text=True, timeout=60)
        if topics.returncode != 0:
            raise StackError(f"vms-topics: the broker's topics differ from conf/kafka/topics.json:\n{topics.stdout}{topics.stderr}")
        n_cams = int(os.environ.get("VMS_CAMERAS", 4))
        cluster = os.environ.get("VMS_CLUSTER", "on") != "off"
        cams = st.camsim(cameras=n_cams,
                         port=env_port("VMS_CAMSIM_PORT", 8554),
                         control_port=env_port("VMS_CAMSIM_CONTROL_PORT", 8555))
        # nginx reaches vms-review-api and vms-login on this host through unix sockets (mode 0660,
        # docs/security.md); VMS_REVIEW_API_PORT / VMS_LOGIN_PORT put one on loopback TCP instead
        review = st.review_api(pg, port=env_port("VMS_REVIEW_API_PORT", 8093),
                               socket=None if os.environ.get("VMS_REVIEW_API_PORT")
                               else os.path.join(st.path("review-api"), "review-api.sock"))
        # plain-HTTP runs: a Secure cookie would not come back over http://127.0.0.1
        login = st.login(pg, r, port=env_port("VMS_LOGIN_PORT", 8095),
                         args=() if args.tls else ("--cookie-secure", "off"),
                         socket=None if os.environ.get("VMS_LOGIN_PORT")
                         else os.path.join(st.path("login"), "login.sock"))
        admin_file = first_admin(login)
        api_port = env_port("VMS_API_PORT", 8091)
        http_port = env_port("VMS_HTTP_PORT", 8080)
        rtmp_port = env_port("VMS_RTMP_PORT", 1935)
        common = {"PUSH_PORT": env_port("VMS_PUSH_PORT", 8094), "REVIEW_API": review.addr, "LOGIN_PROXY": login.proxy, "REDIS_ADDR": r.addr, "KAFKA_BROKERS": k.bootstrap, "PG_DSN": pg.dsn,
                  "VMSD_API": f"127.0.0.1:{api_port}", "RTMP_PORT": rtmp_port,
                  "CAMSIM_PORT": cams.port,
                  # cameras as data (docs/scale-out.md): vmsd runs as a one-node cluster and the
                  # demo cameras are created through its cameras API below; VMS_CLUSTER=off keeps
                  # them as vmsd.conf sections instead
                  "CAMERA_SECTIONS": "" if cluster else camera_sections(cams, n_cams)}
        ngx_vars = common
        if args.tls:
            ngx_vars = dict(common, HTTPS_PORT=env_port("VMS_HTTPS_PORT", 8443), VMSD_CA=st.tls.ca)
            if os.environ.get("VMS_HSTS_MAX_AGE"):
                ngx_vars["HSTS_MAX_AGE"] = int(os.environ["VMS_HSTS_MAX_AGE"])
        # VMS_STORAGE=local: per-node storage on this host (docs/scale-out.md, storage mode (b)): two
        # vmsd nodes, each recording into its own tree that its own nginx serves on a private port;
        # the front nginx's playback goes through vms-playback-router
        storage_local = os.environ.get("VMS_STORAGE", "shared") == "local"
        if storage_local and not cluster:
            raise StackError("VMS_STORAGE=local needs the cluster (VMS_CLUSTER=on)")
        node_names = ("node-a", "node-b") if storage_local else ("vmsd-1",)
        if storage_local:
            base_port = env_port("VMS_PLAYBACK_NODE_PORT", 8086)
            node_ngx = {n: st.nginx(vars={"REDIS_ADDR": r.addr, "KAFKA_BROKERS": k.bootstrap,
                                          "RECORDINGS": st.path(f"recordings-{n}"),
                                          "PLAYBACK_NODE_LISTEN": f"127.0.0.1:{base_port + i}"},
                                    name=f"nginx-{n}")
                        for i, n in enumerate(node_names)}
            router = st.playback_router({n: g.vars["PLAYBACK_NODE_LISTEN"] for n, g in node_ngx.items()},
                                        port=env_port("VMS_PLAYBACK_ROUTER_PORT", 8096))
            ngx_vars = dict(ngx_vars, **router.front_vars)
        ngx = st.nginx(vars=ngx_vars, port=http_port)
        vs = []
        for i, n in enumerate(node_names):
            extra = f"cluster = on\nnode_id = {n}" if cluster else ""
            node_vars = {}
            if storage_local:
                extra += "\ncluster_storage = local"
                node_vars["RECORDINGS"] = st.path(f"recordings-{n}")
            vs.append(st.vmsd(vars={**common, "HTTP_PORT": http_port,
                                    "RELAY": f"rtmp://127.0.0.1:{rtmp_port}/live/%id",
                                    "EXTRA_GLOBAL": extra, **node_vars},
                              name="vmsd" if i == 0 else f"vmsd-{n}",
                              port=api_port if i == 0 else env_port("VMS_API2_PORT", 8092), tls=args.tls))
        v = vs[0]
        if cluster:
            seed_cameras(v, cams, n_cams)
        dc = st.detections_consumer(pg, k)
        receivers = os.environ.get("VMS_ALERT_RECEIVERS")
        if not receivers:      # conf/alerts/receivers.json.in with VMS_EVENT_WEBHOOK_URL
            receivers = os.path.join(VAR, "run", "receivers.json")
            os.makedirs(os.path.dirname(receivers), exist_ok=True)
            with open(os.path.join(ROOT, "conf", "alerts", "receivers.json.in")) as f:
                text = render(f.read(), {"WEBHOOK_URL": os.environ.get("VMS_EVENT_WEBHOOK_URL")
                                         or "http://127.0.0.1:5001/vms-events"}, "receivers.json.in")
            with open(receivers, "w") as f:
                f.write(text)
        notifier = st.alert_notifier(k, receivers)
        st.push(k, ngx, node=socket.gethostname())
        am = st.alertmanager(am_vars, port=am_port)
        prom = st.prometheus(prom_vars, rules, port=prom_port)
    except StackError as e:
        print(f"run: {e}", file=sys.stderr)
        st.stop()
        return 1
    os.makedirs(os.path.dirname(STATE), exist_ok=True)
    with open(STATE, "w") as f:
        json.dump({"pids": st.pids()}, f)
    base = f"http://127.0.0.1:{ngx.port}"
    tls_lines = ""
    if st.tls:
        # browsers: the HTTPS port under a name the certificate has; the HTTP port stays for
        # loopback callers (nginx-rtmp's hooks, Prometheus)
        base = f"https://localhost:{ngx.https_port}"
        tls_lines = f"""
  tls        CA {st.tls.ca} (trust it in the browser, or curl --cacert); certificates in {st.tls.dir}
             postgres only over TLS (sslmode=verify-full); vmsd's API on HTTPS, verified by nginx and Prometheus
             loopback HTTP {ngx.url('/')} for nginx-rtmp and Prometheus
             redis only over mutual TLS on {r.tls_port}; nginx, vmsd, vms-login reach it through stunnel on {r.addr}
             still plain text on loopback: Kafka (docs/security.md, "Transport (TLS)")
             {st.tls_issued.strip().replace(chr(10), chr(10) + '             ')}"""
    with open(am.conf) as f:
        webhook = re.search(r"url: '([^']*)'", f.read()).group(1)
    storage_line = ""
    if len(vs) > 1:
        nodes_text = "; ".join(f"{n}: vmsd {x.api}, recordings {st.path('recordings-' + n)}"
                               for n, x in zip(node_names, vs))
        storage_line = (f"  per-node   {nodes_text}\n"
                        f"             playback through vms-playback-router {router.addr} (docs/scale-out.md)\n")
    print(f"""vms is up (logs: {st.logs})
  mosaic     {base}/
  player     {base}/player.html?camera=cam1
  playback   {base}/playback.html?camera=cam1
  health     {base}/health
  vmsd       {v.api}/health   {v.api}/metrics (with -H "Authorization: Bearer $(./build.sh token --role admin)")
  cameras    {cams.url('cam1')} … (control {cams.control}/status)
  redis      {r.addr}   postgres {pg.url}   kafka {k.bootstrap}   ({len(topics.stdout.splitlines()) - 1} topics as conf/kafka/topics.json: vms-topics)
  events     {base}/events.html   (API {base}/api/events, vms-review-api {review.addr})
  live push  {base}/api/events/live?cameras=cam1,cam2   (vms-push -> nchan, publisher 127.0.0.1:{common["PUSH_PORT"]})
  notifier   vms-alert-notifier -> webhooks of {receivers} (log {notifier.log})
  detections vms-detections-consumer (rules {os.path.join(ROOT, "conf", "review", "rules.json")}, log {dc.log})
  prometheus {prom.url}/alerts   (rules {rules})
  alertmgr   {am.url}   (webhook {webhook})
{storage_line}  sign in    {base}/ as admin, password in {admin_file} (vms-login {login.addr}; more users: vms-user, docs/users.md)
  dev token  ./build.sh token   (signed with {st.secret_file()}){tls_lines}""")
    if args.detach:
        return 0
    print("Ctrl-C stops everything.")
    try:
        while all(s.alive() for s in st.services):
            time.sleep(1)
        dead = [s.name for s in st.services if not s.alive()]
        print(f"run: {', '.join(dead)} exited; stopping", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    st.stop()
    os.unlink(STATE)
    return 0


def stop(args, quiet=False):
    if not os.path.exists(STATE):
        if not quiet:
            print("stop: nothing running")
        return 0
    with open(STATE) as f:
        pids = json.load(f)["pids"]
    for name, pid in reversed(list(pids.items())):
        try:
            os.kill(pid, signal.SIGINT if name == "postgres" else signal.SIGTERM)
        except ProcessLookupError:
            continue
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        kill_group(pid)
        if not quiet:
            print(f"stop: {name} ({pid}) stopped")
    os.unlink(STATE)
    return 0


def token(args):
    """A user token for the running stack, signed with its HS256 secret (development only)."""
    import jwt   # python3-jwt
    key_file = os.path.join(VAR, "secrets", "jwt_hs256.key")
    if not os.path.exists(key_file):
        print("token: no stack secret yet; start the stack with ./build.sh run", file=sys.stderr)
        return 1
    with open(key_file) as f:
        key = f.read().strip()
    now = int(time.time())
    claims = {"sub": args.sub, "role": args.role, "plan": args.plan, "tenant_id": args.tenant,
              "iat": now, "exp": now + args.ttl}
    if args.camera:
        claims["cameras"] = args.camera
    print(jwt.encode(claims, key, algorithm="HS256"))
    return 0


def main():
    ap = argparse.ArgumentParser(prog="vmsstack")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--build", default=None)
    r.add_argument("--detach", action="store_true")
    r.add_argument("--tls", action="store_true",
                   help="certificates by auto/certs.sh in var/tls; nginx HTTPS (HTTP/2), PostgreSQL and Redis over TLS")
    sub.add_parser("stop")
    t = sub.add_parser("token", help="mint a development user token for the running stack")
    t.add_argument("--sub", default="dev")
    t.add_argument("--role", default="admin", choices=("viewer", "operator", "admin"))
    t.add_argument("--plan", default="pro", choices=("free", "pro", "enterprise"))
    t.add_argument("--tenant", default="dev")
    t.add_argument("--camera", action="append", help="limit to this camera (repeatable)")
    t.add_argument("--ttl", type=int, default=3600, help="seconds")
    args = ap.parse_args()
    return {"run": run, "stop": stop, "token": token}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
