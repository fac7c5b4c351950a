"""The CI/CD workflows in .github/workflows/, checked offline: GitHub's workflow schema through npm's
@action-validator/cli (installed into tests/deploy/node_modules by `npm ci` there), and what each
workflow must do, read from its YAML. Nothing here reaches GitHub or AWS."""
import os
import re
import shutil
import subprocess

import yaml

from helpers import ROOT, ensure_node_modules

WF = os.path.join(ROOT, ".github", "workflows")
DEPLOY_NODE = os.path.join(ROOT, "tests", "deploy")
VALIDATOR = os.path.join(DEPLOY_NODE, "node_modules", ".bin", "action-validator")
FILES = ("build-push.yml", "deploy-staging.yml", "deploy-prod.yml")


def load(name):
    doc = yaml.safe_load(open(os.path.join(WF, name)))
    doc["on"] = doc.pop(True, doc.get("on"))   # YAML 1.1 reads the key `on` as true
    return doc


def validate(path):
    ensure_node_modules(DEPLOY_NODE, "@action-validator/cli")
    return subprocess.run([VALIDATOR, path], capture_output=True, text=True, timeout=60)


def test_workflows_pass_the_validator_and_a_broken_one_fails(tmp_path):
    for name in FILES:
        r = validate(os.path.join(WF, name))
        assert r.returncode == 0, (name, r.stdout, r.stderr)
    # the validator does reject: a misspelt key and a job needing one that does not exist
    bad = tmp_path / "bad.yml"
    bad.write_text(open(os.path.join(WF, "build-push.yml")).read().replace("runs-on:", "runs_on:", 1))
    r = validate(str(bad))
    assert r.returncode != 0 and "runs_on" in r.stdout + r.stderr
    shutil.copy(os.path.join(WF, "deploy-staging.yml"), tmp_path / "staging.yml")
    text = (tmp_path / "staging.yml").read_text().replace("needs: test", "needs: tests", 1)
    (tmp_path / "staging.yml").write_text(text)
    r = validate(str(tmp_path / "staging.yml"))
    assert r.returncode != 0 and "unresolved job tests" in r.stdout + r.stderr


def test_no_stored_credential_aws_through_oidc():
    for name in FILES:
        text = open(os.path.join(WF, name)).read()
        doc = load(name)
        assert doc["permissions"]["id-token"] == "write", name
        assert not re.search(r"AKIA[0-9A-Z]{16}|aws-access-key-id|aws-secret-access-key|secrets\.", text), name
        roles = [s["with"]["role-to-assume"] for job in doc["jobs"].values() for s in job.get("steps", [])
                 if s.get("uses", "").startswith("aws-actions/configure-aws-credentials")]
        assert roles and all(re.fullmatch(r"\$\{\{ vars\.[A-Z_]+ \}\}", r) for r in roles), (name, roles)


def test_build_push_builds_both_images_tagged_with_the_commit():
    doc = load("build-push.yml")
    job = doc["jobs"]["build-push"]
    images = job["strategy"]["matrix"]["image"]
    assert sorted(images) == ["nginx", "vmsd"]
    for image in images:
        assert os.path.exists(os.path.join(ROOT, "docker", image + ".Dockerfile"))
    build = next(s for s in job["steps"] if s.get("uses", "").startswith("docker/build-push-action"))
    assert build["with"]["file"] == "docker/${{ matrix.image }}.Dockerfile" and build["with"]["push"] is True
    assert build["with"]["tags"].endswith(":${{ steps.tag.outputs.tag }}")
    tag = next(s for s in job["steps"] if s.get("id") == "tag")
    assert "GITHUB_SHA" in tag["run"]
    assert "workflow_call" in doc["on"] and doc["on"]["workflow_call"]["outputs"]["tag"]


def test_staging_tests_then_builds_then_deploys():
    jobs = load("deploy-staging.yml")["jobs"]
    assert any(s.get("run") == "./build.sh test" for s in jobs["test"]["steps"])
    assert jobs["build"]["needs"] == "test"
    assert jobs["build"]["uses"] == "./.github/workflows/build-push.yml"
    assert jobs["deploy"]["needs"] == "build" and jobs["deploy"]["environment"] == "staging"
    deploy = [s for s in jobs["deploy"]["steps"]
              if s.get("uses", "").startswith("aws-actions/amazon-ecs-deploy-task-definition")]
    assert deploy and deploy[0]["with"]["wait-for-service-stability"] is True


def test_prod_is_manual_approved_blue_green_with_rollback():
    doc = load("deploy-prod.yml")
    assert set(doc["on"]) == {"workflow_dispatch"}             # only by hand
    jobs = doc["jobs"]
    assert jobs["deploy"]["environment"] == "production"     # its required reviewers approve
    script = ".github/scripts/ecs-bluegreen.sh"
    runs = " ".join(s.get("run", "") for s in jobs["deploy"]["steps"])
    assert script in runs
    rb = jobs["rollback"]
    assert rb["needs"] == "deploy" and "failure()" in rb["if"]
    rb_runs = " ".join(s.get("run", "") for s in rb["steps"])
    assert "stop-deployment" in rb_runs and "--auto-rollback-enabled" in rb_runs and script in rb_runs
    assert "needs.deploy.outputs.previous-nginx" in open(os.path.join(WF, "deploy-prod.yml")).read()
    # the blue-green script: CodeDeploy with an ECS AppSpec, waits for success; valid shell
    text = open(os.path.join(ROOT, script)).read()
    assert "AWS::ECS::Service" in text and "aws deploy create-deployment" in text
    assert "aws deploy wait deployment-successful" in text
    assert subprocess.run(["bash", "-n", os.path.join(ROOT, script)]).returncode == 0
