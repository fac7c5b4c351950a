#!/usr/bin/python3
"""vms cloud cost calculator (issue #15 item 2).

Reads the dated price table (prices.csv) and vms's measured inputs (measured.json), and writes:
  vms-cost.xlsx  an 'inputs' sheet (cameras, retention, bitrate, users, ...) and one sheet per provider
                 whose cells are live formulas over the inputs sheet and the provider's price rows:
                 change cameras or retention in Excel/LibreOffice and the totals follow;
  vms-cost.csv   monthly totals per scenario x provider x tier (10/50/200 cameras x 7/15/30 days,
                 and the seed's 50 cameras / 10 users / 24x7 / 30 days).

The CSV is computed by evaluating the very formulas written into the workbook (a small evaluator for
the subset used here: + - * /, MAX, MIN, ROUNDUP(x,0), SUM), so the two cannot drift apart.

    deploy/cost/calc.py [--prices P] [--measured M] [--out DIR] [--cameras N] [--retention D] [--users U]
"""
import argparse
import csv
import json
import math
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PROVIDERS = ["aws", "azure", "gcp", "digitalocean", "hetzner"]
TIERS = ["cheap", "medium", "expensive", "ideal"]
PRICE_ITEMS = ["vm_small", "vm_medium", "vm_large", "block_gb", "object_gb", "egress_gb",
               "kafka_managed", "redis_small", "redis_ha", "pg_small", "pg_ha", "ai_call"]

# What each tier buys.  vm: node type for every node; min_vmsd: vmsd nodes at least (2 = one may fail);
# nginx: extra stateless nginx nodes (0 = nginx on the vmsd node); kafka/redis/pg: the managed price item,
# or None = self-run; self_nodes: nodes for the self-run peers (0 = on the vmsd node); archive: recordings
# older than hot_days go to object storage (needs a segment archiver vms does not have yet).
TIER_SPEC = {
    "cheap":     dict(vm="vm_small", min_vmsd=1, nginx=0, kafka=None, redis=None, pg=None,
                      self_nodes=0, self_nodes_ha=0, archive=False),
    "medium":    dict(vm="vm_medium", min_vmsd=1, nginx=1, kafka=None, redis="redis_small", pg="pg_small",
                      self_nodes=1, self_nodes_ha=1, archive=False),
    "expensive": dict(vm="vm_large", min_vmsd=2, nginx=2, kafka="kafka_managed", redis="redis_ha",
                      pg="pg_ha", self_nodes=0, self_nodes_ha=3, archive=False),
    "ideal":     dict(vm="vm_medium", min_vmsd=2, nginx=2, kafka="kafka_managed", redis="redis_ha",
                      pg="pg_ha", self_nodes=0, self_nodes_ha=3, archive=True),
}

# inputs sheet: (key, label, default or formula, unit); row = index + 2
INPUTS = [
    ("cameras", "cameras", 50, "count"),
    ("retention_days", "recording retention", 30, "days"),
    ("bitrate_mbps", "recorded bitrate per camera", None, "Mbit/s (measured.json)"),
    ("users", "viewers (users)", 10, "count"),
    ("view_hours", "viewing per user per day (live or playback, at the recorded bitrate)", 2, "hours"),
    ("motion_fraction", "fraction of AI samples with motion (after motion gating)", None,
     "0..1 (measured.json: assumed default; 0 quiet, 0.925 busy)"),
    ("ai_samples_day", "AI samples per camera-day (86400 / ai_interval)", None, "count (measured.json)"),
    ("cpu_per_camera", "vmsd CPU per camera", None, "cores (measured.json)"),
    ("rss_mb_per_camera", "vmsd RSS per camera", None, "MB (measured.json)"),
    ("cpu_util", "CPU target utilisation of a vmsd node", 0.5, "0..1"),
    ("ram_util", "memory target utilisation of a vmsd node", 0.5, "0..1"),
    ("hot_days", "days kept on block storage when archiving to object storage (ideal tier)", 1, "days"),
    ("db_gb", "PostgreSQL + Kafka + Redis disk (self-run or managed)", 20, "GB"),
    ("hours_month", "hours per month", 730, "hours"),
    ("days_month", "days per month", 30.4, "days"),
    ("eur_usd", "USD per EUR", 1.08, "rate (ECB reference, mid 2024)"),
    ("gb_camera_day", "recording per camera-day", "=bitrate_mbps/8*86400/1000", "GB"),
    ("recording_gb", "recordings kept", "=cameras*gb_camera_day*retention_days", "GB"),
    ("egress_gb", "viewer egress per month", "=users*view_hours*3600*bitrate_mbps/8/1000*days_month",
     "GB"),
    ("ai_calls_month", "AI provider calls per month",
     "=cameras*ai_samples_day*motion_fraction*days_month", "calls"),
]
IN_ROW = {k: i + 2 for i, (k, *_rest) in enumerate(INPUTS)}


def iref(key):
    return f"inputs!$B${IN_ROW[key]}"


def expand_inputs(formula):
    return re.sub(r"\b([a-z_]+)\b", lambda m: iref(m.group(1)) if m.group(1) in IN_ROW else m.group(1),
                  formula)


def load_prices(path):
    prices = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            prices.setdefault(r["provider"], {})[r["item"]] = r
    return prices


def load_measured(path):
    with open(path) as f:
        m = json.load(f)
    return {"bitrate_mbps": m["bitrate_mbps"]["value"],
            "motion_fraction": m["ai_motion_fraction_assumed"]["value"],
            "ai_samples_day": m["ai_samples_per_camera_day"]["value"],
            "cpu_per_camera": m["cpu_cores_per_camera"]["value"],
            "rss_mb_per_camera": m["rss_mb_per_camera"]["value"]}


def build(prices, measured, overrides):
    """The workbook as {sheet: {cell: value or '=formula'}} plus layout notes for writing."""
    sheets = {"inputs": {"A1": "input", "B1": "value", "C1": "unit / source"}}
    for key, label, default, unit in INPUTS:
        r = IN_ROW[key]
        v = overrides.get(key, measured.get(key, default))
        if isinstance(v, str) and v.startswith("="):
            v = expand_inputs(v)
        sheets["inputs"][f"A{r}"] = label
        sheets["inputs"][f"B{r}"] = v
        sheets["inputs"][f"C{r}"] = unit
    for prov in PROVIDERS:
        s = {"A1": f"{prov}: monthly cost in USD; price rows from prices.csv, tiers below are formulas"}
        hdr = ["item", "unit", "price", "currency", "USD per unit-month", "vCPU", "RAM GB",
               "included egress GB", "what", "as of", "source"]
        for c, h in zip("ABCDEFGHIJK", hdr):
            s[f"{c}2"] = h
        prow = {}
        r = 3
        for item in PRICE_ITEMS:
            p = prices[prov].get(item)
            if p is None:
                continue
            prow[item] = r
            s[f"A{r}"], s[f"B{r}"], s[f"C{r}"], s[f"D{r}"] = item, p["unit"], float(p["price"]), p["currency"]
            fx = f"*{iref('eur_usd')}" if p["currency"] == "EUR" else ""
            hours = f"*{iref('hours_month')}" if p["unit"] == "hour" else ""
            s[f"E{r}"] = f"=C{r}{fx}{hours}"
            for col, k in (("F", "vcpu"), ("G", "ram_gb"), ("H", "included_egress_gb")):
                s[f"{col}{r}"] = float(p[k]) if p[k] else 0
            s[f"I{r}"], s[f"J{r}"], s[f"K{r}"] = p["what"], p["date"], p["source"]
            r += 1
        t0 = r + 1
        s[f"A{t0}"] = "line (per month)"
        lines = ["vmsd nodes", "nginx nodes", "self-run peer nodes", "nodes", "compute USD",
                 "block storage GB", "object storage GB", "storage USD", "billable egress GB", "egress USD",
                 "Kafka USD", "Redis USD", "PostgreSQL USD", "AI calls USD", "total USD"]
        L = {name: t0 + 1 + i for i, name in enumerate(lines)}
        for i, name in enumerate(lines):
            s[f"A{t0 + 1 + i}"] = name
        for col, tier in zip("BCDE", TIERS):
            s[f"{col}{t0}"] = tier
            spec = TIER_SPEC[tier]
            vm = prow[spec["vm"]]

            def c(name, col=col):
                return f"{col}{L[name]}"
            s[c("vmsd nodes")] = expand_inputs(
                f"=MAX({spec['min_vmsd']},ROUNDUP(cameras*cpu_per_camera/($F${vm}*cpu_util),0),"
                f"ROUNDUP(cameras*rss_mb_per_camera/($G${vm}*1000*ram_util),0))")
            s[c("nginx nodes")] = spec["nginx"]
            self_run = [k for k in ("kafka", "redis", "pg") if spec[k] is None or spec[k] not in prow]
            n_self = 0
            if self_run:
                n_self = spec["self_nodes"] if spec["kafka"] is None else spec["self_nodes_ha"]
            s[c("self-run peer nodes")] = n_self
            s[c("nodes")] = f"={c('vmsd nodes')}+{c('nginx nodes')}+{c('self-run peer nodes')}"
            s[c("compute USD")] = f"={c('nodes')}*$E${vm}"
            if spec["archive"]:
                s[c("block storage GB")] = expand_inputs(
                    f"=cameras*gb_camera_day*MIN(hot_days,retention_days)+db_gb")
                s[c("object storage GB")] = expand_inputs(
                    f"=cameras*gb_camera_day*MAX(0,retention_days-hot_days)")
            else:
                s[c("block storage GB")] = expand_inputs("=recording_gb+db_gb")
                s[c("object storage GB")] = 0
            s[c("storage USD")] = (f"={c('block storage GB')}*$E${prow['block_gb']}"
                                   f"+{c('object storage GB')}*$E${prow['object_gb']}")
            s[c("billable egress GB")] = expand_inputs(f"=MAX(0,egress_gb-{c('nodes')}*$H${vm})")
            s[c("egress USD")] = f"={c('billable egress GB')}*$E${prow['egress_gb']}"
            for line, k in (("Kafka USD", "kafka"), ("Redis USD", "redis"), ("PostgreSQL USD", "pg")):
                item = spec[k]
                s[c(line)] = f"=$E${prow[item]}" if item in prow else 0
            s[c("AI calls USD")] = expand_inputs(f"=ai_calls_month*$E${prow['ai_call']}")
            parts = ["compute USD", "storage USD", "egress USD", "Kafka USD", "Redis USD", "PostgreSQL USD",
                     "AI calls USD"]
            s[c("total USD")] = "=" + "+".join(c(p) for p in parts)
        s["_lines"] = L
        sheets[prov] = s
    return sheets


# --- evaluator for the formula subset above -------------------------------------------------------
REF = re.compile(r"(?<![A-Za-z])(?:([a-z]+)!)?\$?([A-K])\$?(\d+)\b")


def ROUNDUP(x, n):
    assert n == 0
    return math.ceil(round(x, 9))


def evaluate(sheets, sheet, cell, cache=None):
    cache = {} if cache is None else cache
    key = (sheet, cell)
    if key in cache:
        return cache[key]
    v = sheets[sheet].get(cell, 0)
    if isinstance(v, str) and v.startswith("="):
        def sub(m):
            return repr(evaluate(sheets, m.group(1) or sheet, f"{m.group(2)}{m.group(3)}", cache))
        expr = REF.sub(sub, v[1:])
        v = eval(expr, {"__builtins__": {}}, {"MAX": max, "MIN": min, "ROUNDUP": ROUNDUP})
    cache[key] = v
    return v


def totals(sheets):
    out = []
    for prov in PROVIDERS:
        L = sheets[prov]["_lines"]
        cache = {}
        for col, tier in zip("BCDE", TIERS):
            row = {"provider": prov, "tier": tier}
            for name, field in (("nodes", "nodes"), ("compute USD", "compute_usd"), ("storage USD", "storage_usd"),
                                ("egress USD", "egress_usd"), ("Kafka USD", "kafka_usd"),
                                ("Redis USD", "redis_usd"), ("PostgreSQL USD", "pg_usd"),
                                ("AI calls USD", "ai_usd"), ("total USD", "total_usd_month")):
                row[field] = round(evaluate(sheets, prov, f"{col}{L[name]}", cache), 2)
            out.append(row)
    return out


SCENARIOS = [(f"{n}cam-{d}d", {"cameras": n, "retention_days": d, "users": max(1, n // 5)})
             for n in (10, 50, 200) for d in (7, 15, 30)]
SCENARIOS.append(("seed-50cam-10users-24x7", {"cameras": 50, "retention_days": 30, "users": 10}))


def write_xlsx(sheets, path):
    from openpyxl import Workbook
    from openpyxl.styles import Font
    wb = Workbook()
    wb.remove(wb.active)
    for name, cells in sheets.items():
        ws = wb.create_sheet(name)
        for cell, v in cells.items():
            if cell.startswith("_"):
                continue
            ws[cell] = v
        ws.column_dimensions["A"].width = 40 if name != "inputs" else 70
        if name != "inputs":
            ws[f"A{cells['_lines']['total USD']}"].font = Font(bold=True)
    wb.save(path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prices", default=os.path.join(HERE, "prices.csv"))
    ap.add_argument("--measured", default=os.path.join(HERE, "measured.json"))
    ap.add_argument("--out", default=".")
    ap.add_argument("--cameras", type=int, default=50, help="the workbook's input (default 50)")
    ap.add_argument("--retention", type=int, default=30, help="days (default 30)")
    ap.add_argument("--users", type=int, default=10)
    a = ap.parse_args(argv)
    prices, measured = load_prices(a.prices), load_measured(a.measured)
    for prov in PROVIDERS:
        missing = [i for i in ("vm_small", "vm_medium", "vm_large", "block_gb", "object_gb", "egress_gb",
                               "ai_call") if i not in prices.get(prov, {})]
        if missing:
            sys.exit(f"calc.py: {a.prices}: {prov} lacks {', '.join(missing)}")
    os.makedirs(a.out, exist_ok=True)
    rows = []
    for name, ov in SCENARIOS:
        for r in totals(build(prices, measured, ov)):
            rows.append({"scenario": name, **ov, **r})
    csv_path = os.path.join(a.out, "vms-cost.csv")
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    xlsx_path = os.path.join(a.out, "vms-cost.xlsx")
    write_xlsx(build(prices, measured, {"cameras": a.cameras, "retention_days": a.retention,
                                        "users": a.users}), xlsx_path)
    print(f"wrote {csv_path} ({len(rows)} rows) and {xlsx_path}")


if __name__ == "__main__":
    main()
