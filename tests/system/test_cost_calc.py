"""deploy/cost/calc.py (issue #15 item 2): the CSV's totals match a hand computation from the price
table and the measured inputs, and the workbook's totals are live formulas over its inputs sheet.

No peers needed; runs in about a second.  The formulas are not evaluated by a spreadsheet program
here (LibreOffice is too heavy for CI and Debian has no offline xlsx formula evaluator); the script
computes its CSV by evaluating the workbook's own formula strings, which is what the hand computation
below checks.
"""
import csv
import json
import math
import os
import re
import subprocess
import sys

import pytest

openpyxl = pytest.importorskip("openpyxl")

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
COST = os.path.join(ROOT, "deploy", "cost")


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    d = tmp_path_factory.mktemp("cost")
    subprocess.run([sys.executable, os.path.join(COST, "calc.py"), "--out", str(d)], check=True,
                   capture_output=True, timeout=60)
    with open(d / "vms-cost.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return d, rows


def price_usd_month(provider, item):
    """One price row as USD per unit-month, read straight from the table."""
    with open(os.path.join(COST, "prices.csv"), newline="") as f:
        for r in csv.DictReader(f):
            if r["provider"] == provider and r["item"] == item:
                p = float(r["price"])
                if r["currency"] == "EUR":
                    p *= 1.08
                if r["unit"] == "hour":
                    p *= 730
                return p
    raise KeyError((provider, item))


def measured(key):
    with open(os.path.join(COST, "measured.json")) as f:
        return json.load(f)[key]["value"]


def row(rows, scenario, provider, tier):
    [r] = [r for r in rows if r["scenario"] == scenario and r["provider"] == provider and r["tier"] == tier]
    return r


def test_every_price_row_is_dated_and_sourced():
    with open(os.path.join(COST, "prices.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    providers = {r["provider"] for r in rows}
    assert providers == {"aws", "azure", "gcp", "digitalocean", "hetzner"}
    for r in rows:
        assert re.fullmatch(r"\d{4}-\d{2}", r["date"]), r
        assert r["source"] and r["currency"] in ("USD", "EUR") and float(r["price"]) >= 0, r


def test_seed_scenario_aws_medium_by_hand(out):
    _, rows = out
    cams, days, users = 50, 30, 10
    cpu, rss = measured("cpu_cores_per_camera"), measured("rss_mb_per_camera")
    gb_day = measured("bitrate_mbps") / 8 * 86400 / 1000                  # 43.2 GB
    # m6i.large: 2 vCPU, 8 GB, at most 50 % busy
    vmsd = max(1, math.ceil(cams * cpu / (2 * 0.5)), math.ceil(cams * rss / (8 * 1000 * 0.5)))
    nodes = vmsd + 1 + 1                                                   # + nginx + self-run Kafka
    compute = nodes * price_usd_month("aws", "vm_medium")
    storage = (cams * gb_day * days + 20) * price_usd_month("aws", "block_gb")
    egress_gb = users * 2 * 3600 * measured("bitrate_mbps") / 8 / 1000 * 30.4
    egress = egress_gb * price_usd_month("aws", "egress_gb")
    managed = price_usd_month("aws", "redis_small") + price_usd_month("aws", "pg_small")
    calls = cams * measured("ai_samples_per_camera_day") * measured("ai_motion_fraction_assumed") * 30.4
    ai = calls * price_usd_month("aws", "ai_call")
    r = row(rows, "seed-50cam-10users-24x7", "aws", "medium")
    assert int(r["nodes"]) == nodes == 3
    for field, want in (("compute_usd", compute), ("storage_usd", storage), ("egress_usd", egress),
                        ("ai_usd", ai), ("kafka_usd", 0)):
        assert float(r[field]) == pytest.approx(want, abs=0.01), field
    assert float(r["total_usd_month"]) == pytest.approx(compute + storage + egress + managed + ai, abs=0.05)


def test_200_cameras_7_days_hetzner_ideal_by_hand(out):
    _, rows = out
    cams, days, users = 200, 7, 40
    cpu, rss = measured("cpu_cores_per_camera"), measured("rss_mb_per_camera")
    gb_day = measured("bitrate_mbps") / 8 * 86400 / 1000
    vmsd = max(2, math.ceil(cams * cpu / (2 * 0.5)), math.ceil(cams * rss / (8 * 1000 * 0.5)))
    nodes = vmsd + 2 + 3              # 2 nginx, 3 nodes for self-run Kafka/Redis/PostgreSQL (no managed ones)
    compute = nodes * price_usd_month("hetzner", "vm_medium")
    # one hot day on volumes, six days in object storage
    storage = ((cams * gb_day * 1 + 20) * price_usd_month("hetzner", "block_gb")
               + cams * gb_day * (days - 1) * price_usd_month("hetzner", "object_gb"))
    egress_gb = users * 2 * 3600 * measured("bitrate_mbps") / 8 / 1000 * 30.4   # 4377.6 GB
    egress = max(0, egress_gb - nodes * 20000) * price_usd_month("hetzner", "egress_gb")
    ai = cams * 8640 * 0.1 * 30.4 * 0.001
    r = row(rows, "200cam-7d", "hetzner", "ideal")
    assert int(r["nodes"]) == nodes
    for field, want in (("compute_usd", compute), ("storage_usd", storage), ("egress_usd", egress),
                        ("ai_usd", ai), ("kafka_usd", 0), ("pg_usd", 0)):
        assert float(r[field]) == pytest.approx(want, abs=0.01), field
    assert float(r["total_usd_month"]) == pytest.approx(compute + storage + egress + ai, abs=0.05)


def test_grid_covers_sizes_retention_providers_tiers(out):
    _, rows = out
    keys = {(r["cameras"], r["retention_days"], r["provider"], r["tier"]) for r in rows}
    assert len(keys) == 3 * 3 * 5 * 4
    # more retention never costs less
    for p in ("aws", "hetzner"):
        t = [float(row(rows, f"50cam-{d}d", p, "medium")["total_usd_month"]) for d in (7, 15, 30)]
        assert t[0] < t[1] < t[2]


def refs(ws_by_name, sheet, formula, seen):
    """Every cell a formula depends on, followed through the workbook, as 'sheet!A1'."""
    for m in re.finditer(r"(?<![A-Za-z])(?:([a-z]+)!)?\$?([A-Z]{1,2})\$?(\d+)\b", formula):
        s, cell = m.group(1) or sheet, m.group(2) + m.group(3)
        key = f"{s}!{cell}"
        if key in seen:
            continue
        seen.add(key)
        v = ws_by_name[s][cell].value
        if isinstance(v, str) and v.startswith("="):
            refs(ws_by_name, s, v, seen)
    return seen


def test_workbook_totals_are_formulas_over_the_inputs_sheet(out):
    d, _ = out
    wb = openpyxl.load_workbook(d / "vms-cost.xlsx")
    ws = {n: wb[n] for n in wb.sheetnames}
    assert set(wb.sheetnames) == {"inputs", "aws", "azure", "gcp", "digitalocean", "hetzner"}
    labels = {ws["inputs"][f"A{r}"].value: r for r in range(2, ws["inputs"].max_row + 1)}
    cameras, retention = labels["cameras"], labels["recording retention"]
    assert ws["inputs"][f"B{cameras}"].value == 50 and ws["inputs"][f"B{retention}"].value == 30
    for name in ("aws", "azure", "gcp", "digitalocean", "hetzner"):
        sheet = ws[name]
        [total_row] = [r for r in range(1, sheet.max_row + 1) if sheet[f"A{r}"].value == "total USD"]
        for col in "BCDE":
            f = sheet[f"{col}{total_row}"].value
            assert isinstance(f, str) and f.startswith("="), (name, col, f)
            deps = refs(ws, name, f, set())
            # the total follows the cameras and retention a user types into the inputs sheet
            assert f"inputs!B{cameras}" in deps and f"inputs!B{retention}" in deps, (name, col)


def test_comparison_doc_quotes_the_calculator(out):
    """Every total in docs/CLOUD_COMPARISON.md's tables is the CSV's figure, rounded to the dollar."""
    _, rows = out
    with open(os.path.join(ROOT, "docs", "CLOUD_COMPARISON.md")) as f:
        doc = f.read()
    names = {"AWS": "aws", "Azure": "azure", "GCP": "gcp", "DigitalOcean": "digitalocean", "Hetzner": "hetzner"}

    def usd(s):
        return float(s.replace("*", "").replace(" ", "").replace("\u202f", ""))
    checked = 0
    # the seed scenario's breakdown: | provider | tier | nodes | ... | **total** |
    for m in re.finditer(r"^\| (AWS|Azure|GCP|DigitalOcean|Hetzner) \| (cheap|medium|expensive|ideal) \|(.*)\|$",
                         doc, re.M):
        cells = [c.strip() for c in m.group(3).split("|")]
        r = row(rows, "seed-50cam-10users-24x7", names[m.group(1)], m.group(2))
        assert usd(cells[-1]) == pytest.approx(float(r["total_usd_month"]), abs=0.51), m.group(0)
        checked += 1
    # the size grid: | N, D days | tier | AWS | Azure | GCP | DO | Hetzner |
    for m in re.finditer(r"^\| (\d+), (\d+) days \| (cheap|medium|expensive|ideal) \|(.*)\|$", doc, re.M):
        cells = [c.strip() for c in m.group(4).split("|")]
        for prov, cell in zip(("aws", "azure", "gcp", "digitalocean", "hetzner"), cells):
            r = row(rows, f"{m.group(1)}cam-{m.group(2)}d", prov, m.group(3))
            assert usd(cell) == pytest.approx(float(r["total_usd_month"]), abs=0.51), (m.group(0), prov)
            checked += 1
    assert checked >= 9 + 15 * 5
