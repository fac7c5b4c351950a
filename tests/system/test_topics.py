"""vms-topics (docs/events.md, "Topics as code"): conf/kafka/topics.json against a broker.  The
harness's broker (librdkafka's mock cluster) has no admin API: vms-topics says so and checks."""
import json
import os
import re
import subprocess

import vmsstack

TOPICS = os.path.join(vmsstack.ROOT, "conf", "kafka", "topics.json")


def topics(stack, *args):
    return subprocess.run([stack.bin("vms-topics"), *args], capture_output=True, text=True, timeout=60)


def test_the_harness_broker_matches_the_file(stack):
    k = stack.kafka()
    r = topics(stack, "--brokers", k.bootstrap, "--file", TOPICS, "--timeout", "2s")
    assert r.returncode == 0, r.stdout + r.stderr
    want = {t["name"]: t["partitions"] for t in json.load(open(TOPICS))["topics"]}
    got = dict(re.findall(r"^(\S+): unchanged \((\d+) partitions\)$", r.stdout, re.M))
    assert {n: int(p) for n, p in got.items()} == want
    assert "DescribeConfigs not answered" in r.stdout          # the mock: configs are not checked
    # kcat, a real client, sees the same partitions
    meta = subprocess.run(["kcat", "-b", k.bootstrap, "-L"], capture_output=True, text=True, timeout=30).stdout
    seen = {n: int(p) for n, p in re.findall(r'topic "([^"]+)" with (\d+) partitions', meta)}
    assert {n: seen.get(n) for n in want} == want


def test_missing_topics_and_partitions_are_reported(stack, tmp_path):
    k = stack.kafka()
    doc = json.load(open(TOPICS))
    doc["topics"][0]["partitions"] += 2
    doc["topics"].append({"name": "vms.extra", "partitions": 2})
    f = tmp_path / "topics.json"
    f.write_text(json.dumps(doc))
    first = doc["topics"][0]
    for args in ((), ("--check",)):
        r = topics(stack, "--brokers", k.bootstrap, "--file", str(f), "--timeout", "2s", *args)
        assert r.returncode == 1, r.stdout + r.stderr
        assert "vms.extra: missing (wants 2 partitions)" in r.stdout
        assert f"{first['name']}: {first['partitions'] - 2} partitions, wants {first['partitions']}" in r.stdout


def test_bad_file_is_refused_with_each_problem(stack, tmp_path):
    f = tmp_path / "topics.json"
    f.write_text(json.dumps({"topics": [
        {"name": "ok", "partitions": 1},
        {"name": "bad name", "partitions": 0, "replicas": 1},
        {"name": "ok", "partitions": 2, "configs": {"retention.ms": 1000}},
        {"name": "x", "partitions": "3"}]}))
    r = topics(stack, "--brokers", "127.0.0.1:9", "--file", str(f))
    assert r.returncode == 2
    lines = r.stderr.splitlines()
    assert 'topics.json: topics[1]: unknown field "replicas"' in lines
    assert "topics.json: topics[1]: name: must be 1..249 characters of A-Z a-z 0-9 . _ -" in lines
    assert "topics.json: topics[1]: partitions: must be an integer 1..10000" in lines
    assert 'topics.json: topics[2] ("ok"): name: duplicate' in lines
    assert 'topics.json: topics[2] ("ok"): configs.retention.ms: must be a string' in lines
    assert 'topics.json: topics[3] ("x"): partitions: must be an integer 1..10000' in lines
    f.write_text("{not json")
    r = topics(stack, "--brokers", "127.0.0.1:9", "--file", str(f))
    assert r.returncode == 2 and r.stderr.startswith("topics.json: line 1 column")
    r = topics(stack, "--brokers", "127.0.0.1:9", "--file", str(tmp_path / "none.json"))
    assert r.returncode == 2 and "No such file" in r.stderr
