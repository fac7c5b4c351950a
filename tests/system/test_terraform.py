"""Offline validation of deploy/terraform (issue #15 item 4): no terraform binary, no cloud.

Every .tf file is parsed by HashiCorp's HCL parser (npm @cdktf/hcl2json, hcl2json built to
WebAssembly; tests/deploy/hcl2json.mjs) and the parsed trees are checked for what `terraform
validate` would refuse or a reviewer would: variables used but not declared, module calls missing a
required variable or passing an unknown one, module outputs referenced but not declared, secret
literals, untagged resources, and CloudWatch alarms out of step with conf/prometheus/alerts.yml.
Each check is shown to fail on a broken copy (test_each_check_catches_its_breakage)."""

import json
import os
import posixpath
import re
import subprocess

import pytest
import yaml

from helpers import ROOT, ensure_node_modules

DEPLOY_NODE = os.path.join(ROOT, "tests", "deploy")
TF = os.path.join(ROOT, "deploy", "terraform")
ALERTS = os.path.join(ROOT, "conf", "prometheus", "alerts.yml")
MODULES = ["vpc", "ecs", "rds", "elasticache", "msk", "s3", "ecr", "alb", "cloudfront", "secrets",
           "cloudwatch", "sns", "backup"]
ENVS = ["staging", "prod"]
META_ARGS = {"source", "version", "providers", "depends_on", "count", "for_each"}
# aws_* resource types that take no tags argument; every other aws_* resource must set tags
# explicitly (module var.tags, merged) in addition to the provider's default_tags.
UNTAGGABLE = {
    "aws_route_table_association", "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket_versioning",
    "aws_s3_bucket_policy", "aws_s3_bucket_lifecycle_configuration", "aws_ecr_lifecycle_policy",
    "aws_iam_role_policy", "aws_iam_role_policy_attachment", "aws_efs_mount_target",
    "aws_msk_configuration", "aws_sns_topic_subscription", "aws_backup_selection",
    "aws_backup_vault_notifications",
}
SECRET_PATTERNS = [
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "AWS access key id"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "private key"),
    (re.compile(r"(?i)aws_secret_access_key\s*=\s*\"[^\"]+\""), "AWS secret access key"),
    # name = "literal" where the name says it is a secret and the value is not an expression
    (re.compile(r"(?im)^\s*\w*(?:password|passwd|secret_string|auth_token|api_key|token_secret|"
                r"private_key|secret_key)\w*\s*=\s*\"(?!\$\{)[^\"]+\""), "secret literal"),
]
VAR_RE = re.compile(r"(?<![\w.])var\.([A-Za-z_][\w-]*)")
MOD_RE = re.compile(r"(?<![\w.])module\.([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)")


HCL_SUFFIXES = (".tf", ".tfvars", ".tfvars.example")


def tf_files(root):
    """Every HCL file: the .tf of the stack and the modules, the environments' variable files."""
    out = []
    for d, _, files in os.walk(root):
        out += [os.path.relpath(os.path.join(d, f), root) for f in files if f.endswith(HCL_SUFFIXES)]
    return sorted(out)


def hcl_parse(paths):
    """{path: parsed} with one node process for all paths ({"__error__": msg} if it does not parse)."""
    ensure_node_modules(DEPLOY_NODE, "@cdktf/hcl2json")
    r = subprocess.run(["node", os.path.join(DEPLOY_NODE, "hcl2json.mjs")] + list(paths),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout)


def strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield k
            yield from strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from strings(v)


def check(parsed, texts, alerts_yml):
    """All findings (list of strings; empty = clean) for a tree given as {relpath: parsed HCL JSON}
    and {relpath: text} (every file under deploy/terraform, .tf and tfvars examples)."""
    errors = []
    for f, p in parsed.items():
        if "__error__" in p:
            errors.append(f"{f}: does not parse: {p['__error__'][:300]}")
    dirs = {}
    for f, p in parsed.items():
        if "__error__" not in p and f.endswith(".tf"):
            dirs.setdefault(posixpath.dirname(f), []).append((f, p))

    def declared(d):
        vs, outs = {}, set()
        for _, p in dirs.get(d, []):
            for name, blocks in p.get("variable", {}).items():
                vs[name] = "default" in blocks[0]
            outs |= set(p.get("output", {}))
        return vs, outs

    # 1. every var.X used in a directory is declared there
    for d, files in dirs.items():
        vs, _ = declared(d)
        for f, p in files:
            for s in strings({k: v for k, v in p.items() if k != "variable"}):
                for v in VAR_RE.findall(s):
                    if v not in vs:
                        errors.append(f"{f}: var.{v} used but not declared in {d}")
    # 2. module calls: source exists, required variables passed, no unknown ones; 3. module.M.O
    for d, files in dirs.items():
        calls = {}
        for f, p in files:
            for m, blocks in p.get("module", {}).items():
                calls[m] = (f, blocks[0])
        for m, (f, call) in calls.items():
            src = posixpath.normpath(posixpath.join(d, call.get("source", "")))
            if src not in dirs:
                errors.append(f"{f}: module {m}: source {call.get('source')} has no .tf files")
                continue
            vs, _ = declared(src)
            args = set(call) - META_ARGS
            for a in sorted(args - set(vs)):
                errors.append(f"{f}: module {m} passes {a}, which {src} does not declare")
            for v in sorted(n for n, has_default in vs.items() if not has_default and n not in args):
                errors.append(f"{f}: module {m} does not pass required variable {v}")
        for f, p in files:
            for s in strings(p):
                for m, o in MOD_RE.findall(s):
                    if m not in calls:
                        errors.append(f"{f}: module.{m}.{o}: no module {m} here")
                        continue
                    src = posixpath.normpath(posixpath.join(d, calls[m][1].get("source", "")))
                    if o not in declared(src)[1]:
                        errors.append(f"{f}: module.{m}.{o}: {src} has no output {o}")
    # 4. no secret literal anywhere; no secret value resource
    for f, text in texts.items():
        for rx, what in SECRET_PATTERNS:
            for mt in rx.finditer(text):
                errors.append(f"{f}: {what}: {mt.group(0).strip()[:40]}...")
    for f, p in parsed.items():
        if "aws_secretsmanager_secret_version" in p.get("resource", {}):
            errors.append(f"{f}: aws_secretsmanager_secret_version puts a secret value in terraform")
    # 5. tags: every taggable aws_* resource sets tags; every env's aws provider has default_tags
    for f, p in parsed.items():
        for rtype, named in p.get("resource", {}).items():
            for rname, blocks in named.items():
                if rtype.startswith("aws_") and rtype not in UNTAGGABLE and "tags" not in blocks[0]:
                    errors.append(f"{f}: {rtype}.{rname} has no tags")
    for d, files in dirs.items():
        if d == "stack":
            providers = [b for _, p in files for b in p.get("provider", {}).get("aws", [])]
            if not providers or not all(b.get("default_tags") for b in providers):
                errors.append(f"{d}: provider aws without default_tags")
    # 6. one CloudWatch alarm per alerts.yml rule, tagged with the alert's name
    want = {}
    for g in yaml.safe_load(alerts_yml)["groups"]:
        for r in g["rules"]:
            if "alert" in r:
                want[r["alert"]] = want.get(r["alert"], 0) + 1
    have = {}
    for f, p in parsed.items():
        for rname, blocks in p.get("resource", {}).get("aws_cloudwatch_metric_alarm", {}).items():
            m = re.search(r"Alert\s*=\s*\"([^\"]+)\"", json.dumps(blocks[0].get("tags", "")).replace('\\"', '"'))
            if not m:
                errors.append(f"{f}: aws_cloudwatch_metric_alarm.{rname} has no Alert tag")
                continue
            have[m.group(1)] = have.get(m.group(1), 0) + 1
            if m.group(1) not in blocks[0].get("alarm_name", ""):
                errors.append(f"{f}: aws_cloudwatch_metric_alarm.{rname}: alarm_name does not name {m.group(1)}")
    for a, n in sorted(want.items()):
        if have.get(a, 0) != n:
            errors.append(f"alerts.yml has {n} rule(s) {a}, CloudWatch {have.get(a, 0)} alarm(s)")
    for a in sorted(set(have) - set(want)):
        errors.append(f"CloudWatch alarm {a} mirrors no alert of alerts.yml")
    # 7. each environment sets every variable the stack requires (ENV.tfvars, or its
    # terraform.tfvars.example for the deployment's names) and none the stack does not declare
    stack_vars, _ = declared("stack")
    for e in ENVS:
        given = {}
        for f in (f"envs/{e}/{e}.tfvars", f"envs/{e}/terraform.tfvars.example"):
            if f not in parsed or "__error__" in parsed[f]:
                errors.append(f"{f}: missing")
                continue
            for name in parsed[f]:
                given[name] = f
                if name not in stack_vars:
                    errors.append(f"{f}: sets {name}, which the stack does not declare")
        for v in sorted(n for n, has_default in stack_vars.items() if not has_default and n not in given):
            errors.append(f"envs/{e} does not set required variable {v}")
    return errors


@pytest.fixture(scope="module")
def tree():
    files = tf_files(TF)
    parsed = hcl_parse([os.path.join(TF, f) for f in files])
    parsed = {f: parsed[os.path.join(TF, f)] for f in files}
    texts = {}
    for d, _, names in os.walk(TF):
        for n in names:
            if n.endswith((".tf", ".tfvars", ".example", ".hcl")):
                with open(os.path.join(d, n)) as fh:
                    texts[os.path.relpath(os.path.join(d, n), TF)] = fh.read()
    with open(ALERTS) as fh:
        alerts = fh.read()
    return parsed, texts, alerts


def test_terraform_tree_is_complete_and_consistent(tree):
    parsed, texts, alerts = tree
    dirs = {posixpath.dirname(f) for f in parsed}
    for m in MODULES:
        for f in ("main.tf", "variables.tf", "outputs.tf"):
            assert f"modules/{m}/{f}" in parsed, f"modules/{m}/{f} missing"
    # one root (stack/) wires every module; each environment is its variables and its state
    for f in ("main.tf", "variables.tf", "outputs.tf"):
        assert f"stack/{f}" in parsed
    main = parsed["stack/main.tf"]
    assert set(main["module"]) == set(MODULES), f"the stack wires {sorted(main['module'])}"
    assert "s3" in main["terraform"][0]["backend"], "no S3 backend"
    for e in ENVS:
        assert f"envs/{e}/{e}.tfvars" in parsed and f"envs/{e}/terraform.tfvars.example" in parsed
        assert f'key            = "vms/{e}/terraform.tfstate"' in open(os.path.join(TF, "envs", e, "backend.hcl")).read()
    assert {d for d in dirs if not d.startswith("envs/")} == {f"modules/{m}" for m in MODULES} | {"stack"}
    assert check(parsed, texts, alerts) == []


def test_required_settings_are_in_the_modules(tree):
    parsed = tree[0]
    res = lambda m: {k: v for f, p in parsed.items() if f.startswith(f"modules/{m}/")  # noqa: E731
                     for k, v in p.get("resource", {}).items()}
    pg = res("rds")["aws_db_parameter_group"]["this"][0]
    assert {"name": "rds.force_ssl", "value": "1"} in pg["parameter"]
    db = res("rds")["aws_db_instance"]["this"][0]
    assert db["engine"] == "postgres" and db["engine_version"] == "15" and pg["family"] == "postgres15"
    assert db["manage_master_user_password"] is True and "password" not in db
    rg = res("elasticache")["aws_elasticache_replication_group"]["this"][0]
    assert rg["transit_encryption_enabled"] is True and "secret" in rg["auth_token"]
    tls = res("msk")["aws_msk_cluster"]["this"][0]["encryption_info"][0]["encryption_in_transit"][0]
    assert tls == {"client_broker": "TLS", "in_cluster": True}
    lc = res("s3")["aws_s3_bucket_lifecycle_configuration"]
    assert set(lc) == {"recordings", "detections", "backups"}
    assert "var.recordings_retention_days" in json.dumps(lc["recordings"])
    assert "aws_secretsmanager_secret" in res("secrets") and \
        "aws_secretsmanager_secret_version" not in res("secrets")
    ecs = json.dumps(res("ecs"))
    assert "${var.vmsd_repository_url}:${var.image_tag}" in json.dumps(parsed["modules/ecs/main.tf"]["locals"])
    assert "aws-sm:" in json.dumps(parsed["modules/ecs/main.tf"]["locals"]) and "aws_ecs_service" in ecs
    sel = res("backup")["aws_backup_selection"]["this"][0]
    assert sel["resources"] == "${var.resource_arns}"
    assert "module.rds.arn" in json.dumps(parsed["stack/main.tf"]["module"]["backup"])


BREAKAGES = [
    # (file, old, new, expected finding)
    ("modules/rds/variables.tf", 'variable "multi_az" {', 'variable "multi_az_x" {', "var.multi_az used but not declared"),
    ("stack/main.tf", "  node_type                 = var.redis_node_type\n",
     "  node_type                 = var.redis_node_type\n  nodes_typo = 3\n", "passes nodes_typo"),
    ("stack/main.tf", "  image_tag             = var.image_tag\n", "", "does not pass required variable image_tag"),
    ("stack/outputs.tf", "module.rds.endpoint", "module.rds.host", "has no output host"),
    ("modules/sns/main.tf", "  tags              = var.tags\n", "", "aws_sns_topic.alarms has no tags"),
    ("stack/main.tf", "  default_tags {", "  xdefault_tags {", "without default_tags"),
    ("envs/staging/staging.tfvars", "kafka_brokers             = 2\n", "", "envs/staging does not set required variable kafka_brokers"),
    ("envs/prod/prod.tfvars", "nginx_count ", "nginx_cnt ", "sets nginx_cnt, which the stack does not declare"),
    ("envs/staging/terraform.tfvars.example", 'alarm_emails ', 'db_password = "hunter2hunter2"\nalarm_emails ', "secret literal"),
    ("modules/vpc/main.tf", 'domain = "vpc"', 'domain = "vpc"\n  # AKIAABCDEFGHIJKLMNOP', "AWS access key id"),
    ("modules/cloudwatch/main.tf", 'Alert = "KafkaSpoolGrowing"', 'Alert = "KafkaSpool"', "KafkaSpoolGrowing, CloudWatch 0"),
    ("modules/ecr/main.tf", "image_tag_mutability = \"IMMUTABLE\"", "image_tag_mutability = ", "does not parse"),
]


def test_each_check_catches_its_breakage(tree, tmp_path):
    parsed, texts, alerts = tree
    copies = {}
    for i, (f, old, new, _) in enumerate(BREAKAGES):
        assert old in texts[f], f"breakage {i}: {old!r} not in {f}"
        p = tmp_path / f"b{i}-{os.path.basename(f)}"
        p.write_text(texts[f].replace(old, new, 1))
        copies[i] = str(p)
    reparsed = hcl_parse([c for i, c in copies.items() if BREAKAGES[i][0].endswith(HCL_SUFFIXES)])
    for i, (f, old, new, want) in enumerate(BREAKAGES):
        p2, t2 = dict(parsed), dict(texts)
        t2[f] = texts[f].replace(old, new, 1)
        if f.endswith(HCL_SUFFIXES):
            p2[f] = reparsed[copies[i]]
        found = check(p2, t2, alerts)
        assert any(want in e for e in found), f"breakage {i} ({f}: {want}) not reported: {found}"
    # and an alert added to alerts.yml without its alarm
    extra = alerts + "\n  - name: extra\n    rules:\n      - alert: NewAlert\n        expr: vector(1)\n"
    assert "alerts.yml has 1 rule(s) NewAlert, CloudWatch 0 alarm(s)" in check(parsed, texts, extra)
