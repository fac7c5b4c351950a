"""docker/compose.yml and the two images it builds (docker/nginx.Dockerfile, docker/vmsd.Dockerfile),
checked offline: there is no Docker engine on the development machines, so the images are not built
here; `docker-compose config` (Debian's docker-compose) validates and resolves the compose file, and
the Dockerfiles' structure is read from their text (multi-stage, non-root, healthcheck)."""
import glob
import os
import re
import subprocess

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCKER = os.path.join(ROOT, "docker")
COMPOSE = os.path.join(DOCKER, "compose.yml")


def compose_config():
    r = subprocess.run(["docker-compose", "-f", COMPOSE, "config"], capture_output=True, text=True,
                       cwd=DOCKER, timeout=60)
    assert r.returncode == 0, r.stderr
    return yaml.safe_load(r.stdout)


def dockerfile(name):
    """(stages [(image, alias)], instructions of the last stage [(KEYWORD, args)]) of docker/NAME."""
    text = re.sub(r"\\\n", " ", open(os.path.join(DOCKER, name)).read())
    stages, last = [], []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, args = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            m = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", args.strip(), re.I)
            assert m, line
            stages.append((m.group(1), m.group(2)))
            last = []
        else:
            last.append((word, args.strip()))
    return stages, last


def test_images_are_multi_stage_non_root_with_a_healthcheck():
    for name, binary in (("nginx.Dockerfile", "nginx"), ("vmsd.Dockerfile", "vmsd")):
        stages, runtime = dockerfile(name)
        # a build stage on Debian 12 that runs our auto/ scripts, a runtime stage copying from it
        assert len(stages) == 2 and stages[0] == ("debian:12", "build"), (name, stages)
        assert stages[1][0].startswith("debian:12"), (name, stages)
        build_text = open(os.path.join(DOCKER, name)).read().split(stages[1][0])[0]
        assert "auto/install.sh" in build_text and "auto/modules.sh" in build_text, name
        copies = [a for w, a in runtime if w == "COPY"]
        assert copies and all(a.startswith("--from=build ") for a in copies), (name, copies)
        # the runtime stage installs no compiler or -dev package
        runs = " ".join(a for w, a in runtime if w == "RUN")
        assert not re.search(r"\S+-dev\b|build-essential|\bgcc\b|\bclang\b", runs), (name, runs)
        # the last USER is a named unprivileged user, not root / uid 0
        users = [a for w, a in runtime if w == "USER"]
        assert users and users[-1].split(":")[0] not in ("root", "0"), (name, users)
        assert "useradd" in runs and "--uid 10001" in runs, name
        health = [a for w, a in runtime if w == "HEALTHCHECK"]
        assert len(health) == 1 and "CMD" in health[0] and "/health" in health[0], (name, health)
        cmd = [a for w, a in runtime if w == "CMD"]
        assert cmd and binary in cmd[-1], (name, cmd)
    # the old single image (two processes under one entrypoint) is gone
    assert not os.path.exists(os.path.join(DOCKER, "Dockerfile"))


def test_compose_builds_the_split_images_and_uses_tls():
    cfg = compose_config()
    svc = cfg["services"]
    assert svc["vms"]["build"]["dockerfile"] == "docker/nginx.Dockerfile"
    assert svc["vmsd"]["build"]["dockerfile"] == "docker/vmsd.Dockerfile"
    for name in ("vms", "vmsd", "prometheus", "postgres"):   # every TLS end point has the certificates
        assert any(str(v).startswith("tls:") or (isinstance(v, dict) and v.get("source") == "tls")
                   for v in svc[name]["volumes"]), name
    # the certificates are made first, by auto/certs.sh, once
    assert "certs.sh" in " ".join(svc["certs"]["entrypoint"]) and svc["certs"]["restart"] == "no"
    for name in ("vms", "vmsd", "postgres"):
        assert svc[name]["depends_on"]["certs"]["condition"] == "service_completed_successfully"
    # browser -> nginx: only HTTPS reaches the network (the others are the host's loopback)
    ports = [str(p.get("published", "")) + ":" + str(p.get("target")) + "@" + str(p.get("host_ip", ""))
             if isinstance(p, dict) else str(p) for p in svc["vms"]["ports"]]
    open_ports = [p for p in ports if "127.0.0.1" not in p]
    assert open_ports and all(p.startswith("8443:") for p in open_ports), ports
    assert "https://localhost:8443/health" in " ".join(svc["vms"]["healthcheck"]["test"])
    # vmsd's API: HTTPS, checked with the CA, in nginx's network namespace (loopback only)
    assert svc["vmsd"]["network_mode"] == "service:vms"
    assert "--cacert /etc/vms/tls/ca.crt https://" in " ".join(svc["vmsd"]["healthcheck"]["test"])
    # PostgreSQL: ssl on with its certificate, TCP clients over TLS only
    pg = " ".join(svc["postgres"]["entrypoint"])
    assert "ssl=on" in pg and "ssl_cert_file=" in pg and "hba_file=/etc/vms-pg/pg_hba.conf" in pg
    hba = [line.split() for line in open(os.path.join(DOCKER, "pg_hba.conf"))
           if line.strip() and not line.startswith("#")]
    assert [h[0] for h in hba if h[0] != "local"] and all(h[0] in ("local", "hostssl") for h in hba)
    # Redis: TLS only (no plain port), clients with a certificate of the CA; nginx and vmsd reach it
    # through the stunnel client in their network namespace, which verifies the server's name
    redis = svc["redis"]["command"]
    assert redis[redis.index("--port") + 1] == "0" and redis[redis.index("--tls-auth-clients") + 1] == "yes"
    assert "--tls" in svc["redis"]["healthcheck"]["test"]
    tunnel = svc["redis-tunnel"]
    assert tunnel["network_mode"] == "service:vms" and "stunnel4" in tunnel["command"][0]
    stunnel = dict(line.split(" = ", 1) for line in open(os.path.join(DOCKER, "stunnel-redis.conf"))
                   .read().splitlines() if " = " in line and not line.startswith(";"))
    assert stunnel["client"] == "yes" and stunnel["verifyChain"] == "yes" and stunnel["checkHost"] == "redis"
    assert stunnel["accept"].startswith("127.0.0.1:") and stunnel["connect"] == "redis:6380"
    assert svc["vmsd"]["depends_on"]["redis-tunnel"]["condition"] == "service_healthy"
    # what is not TLS yet is said in the file itself and in docs/security.md
    text = open(COMPOSE).read()
    assert "NOT TLS here: Kafka (PLAINTEXT" in text
    sec = open(os.path.join(ROOT, "docs/security.md")).read()
    row = next(line for line in sec.splitlines() if line.startswith("| docker/compose.yml |"))
    assert "Kafka" in row and "TLS" in row


def test_compose_runs_two_vmsd_nodes_on_shared_storage():
    """Scale-out's default in compose (docs/scale-out.md): two vmsd nodes, one recordings volume
    (storage mode (a)), each with its own configuration and healthcheck, both after Kafka and Redis."""
    svc = compose_config()["services"]
    a, b = svc["vmsd"], svc["vmsd-2"]
    assert a["image"] == b["image"] == "vms-vmsd"
    assert b["command"] == ["vmsd", "-c", "/etc/vms/vmsd-2.conf"]

    def rec(s):
        return [v for v in s["volumes"] if (isinstance(v, dict) and v.get("source") == "recordings")
                or str(v).startswith("recordings:")]
    assert rec(a) and rec(a) == rec(b)
    assert "https://localhost:8092/health" in " ".join(b["healthcheck"]["test"])
    for dep in ("kafka", "redis-tunnel"):
        assert b["depends_on"][dep]["condition"] == "service_healthy"
    readme = open(os.path.join(DOCKER, "README.md")).read()
    assert "cluster = on" in readme and "upstream vmsd_nodes" in readme


def test_compose_has_no_secret_literal_and_healthchecks():
    cfg = compose_config()
    text = open(COMPOSE).read()
    # secrets come from files: docker secrets mounted at /run/secrets and NAME_FILE variables
    assert set(cfg["secrets"]) >= {"jwt_secret", "pg_password", "pgpass"}
    for name, s in cfg["secrets"].items():
        assert set(s) == {"file"}, name
    for name, svc in cfg["services"].items():
        for key, value in (svc.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|TOKEN|KEY", key):
                assert key.endswith("_FILE") and str(value).startswith("/run/secrets/"), (name, key)
        if svc.get("restart") != "no":
            hc = svc.get("healthcheck") or {}
            assert hc.get("test") and hc["test"][0] in ("CMD", "CMD-SHELL"), name
    assert not re.search(r"(?i)(password|secret|token)\s*[:=]\s*['\"]?[A-Za-z0-9+/]{8,}", text
                         .replace("POSTGRES_PASSWORD_FILE: /run/secrets/pg_password", "")
                         .replace("JWT_SECRET_FILE: /run/secrets/jwt_secret", ""))


def runtime_packages(name):
    _, runtime = dockerfile(name)
    run = " ".join(a for w, a in runtime if w == "RUN")
    m = re.search(r"apt-get install -y -q --no-install-recommends (.*?)&&", run)
    assert m, name
    return set(m.group(1).split())


def test_runtime_stages_carry_the_libraries_the_binaries_link():
    """Each shared library our binaries need (readelf -d: NEEDED) is a file of a package the runtime
    stage installs (libc6, libgcc-s1, libstdc++6 come with every one of them; read from the file
    lists of this machine's dpkg, where the build installed them), and every package named exists
    in Debian 12 (apt-cache)."""
    build = os.environ.get("VMS_BUILD_DIR") or os.path.join(ROOT, "build")
    if os.path.exists(os.path.join(build, ".sanitize")):
        # the images ship the plain build; an ASan/UBSan one links the sanitizer runtimes and more.
        # ./build.sh test runs the system tests on B-asan next to the plain B: read that one
        plain = build[:-len("-asan")] if build.endswith("-asan") else ""
        if not plain or os.path.exists(os.path.join(plain, ".sanitize")) \
                or not os.path.exists(os.path.join(plain, "bin", "vmsd")):
            pytest.skip("sanitizer build without its plain sibling: not what the images carry")
        build = plain
    implied = {"libc6", "libgcc-s1", "libstdc++6"}
    images = {"nginx.Dockerfile": sorted(glob.glob(os.path.join(build, "modules", "*.so"))),
              "vmsd.Dockerfile": [os.path.join(build, "bin", b) for b in ("vmsd", "vms-index")]}
    for name, binaries in images.items():
        pkgs = runtime_packages(name)
        r = subprocess.run(["apt-cache", "show", "--no-all-versions", *sorted(pkgs)],
                           capture_output=True, text=True)
        assert r.returncode == 0, (name, r.stderr)
        assert binaries and all(os.path.exists(b) for b in binaries), binaries
        needed = set()
        for b in binaries:
            out = subprocess.run(["readelf", "-d", b], capture_output=True, text=True, check=True).stdout
            needed |= set(re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", out))
        provided = set()                       # file names in those packages (dpkg's file lists)
        for pkg in pkgs | implied:
            for lst in glob.glob(f"/var/lib/dpkg/info/{pkg}.list") + glob.glob(f"/var/lib/dpkg/info/{pkg}:*.list"):
                provided |= {os.path.basename(line.strip()) for line in open(lst)}
        missing = sorted(needed - provided)
        assert not missing, (name, missing)
