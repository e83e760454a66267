"""`make bench`: every benchmark, one table. Not part of `make test`.

Writes bench/results/latest.md (the table) and bench/results/latest.json (raw numbers).
KURZ_BENCH_SECONDS sets the length of each wrk run (default 6), KURZ_BENCH_ROUNDS the
rounds of baseline and redirector runs whose median is reported (default 3)."""

from __future__ import annotations

import importlib
import json
import os
import platform
import time
import traceback
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"

# (module in bench/, title). A module offers run() -> dict; missing ones are skipped.
OTHERS = (
    ("instructions", "Instructions per redirect (callgrind, uvicorn, 1 worker)"),
    ("bulk_create", "Bulk link creation"),
    ("aggregate", "Aggregation into Postgres"),
    ("wait_replicas", "Waiting for a Redis replica before answering (KURZ_EDGE_WAIT_REPLICAS=1)"),
    ("webhooks", "Webhook deliveries"),
    ("pipeline", "The whole pipeline on one machine against the redirector alone"),
    ("analytics", "Analytics queries"),
    ("link_list", "The link list with 100,000 links in one workspace"),
)


def _redirect_table(result: dict[str, Any]) -> list[str]:
    lines = [
        "| scenario | server | workers | req/s | p50 ms | p99 ms (each round) | errors "
        "| ratio to stock baseline (each round) | ratio to same-options baseline "
        "| ratio to bare protocol | p99 / stock baseline p99 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        errors = r["errors"] + r["non_2xx_3xx"]  # a 404 or 503 is a failed redirect too
        rounds = " ".join(f"{x:.2f}" for x in r.get("round_ratios", ()))
        ratio = f"**{r['ratio']:.2f}** ({rounds})" if rounds else f"{r['ratio']:.2f}"
        same = f"{r['ratio_same_options']:.2f}" if r["ratio_same_options"] else "-"
        p99s = " ".join(f"{x:.2f}" for x in r["round_p99_ms"])
        bare = f"**{r['ratio_bare']:.2f}**" if "ratio_bare" in r else "-"
        p99_ratio = f"**{r['p99_vs_stock_p99']:.2f}**" if "p99_vs_stock_p99" in r else "-"
        lines.append(
            f"| {r['scenario']} | {r['server']} | {r['workers']} | {r['requests_per_s']:,.0f} "
            f"| {r['p50_ms']:.2f} | **{r['p99_ms']:.2f}** ({p99s}) | {errors} | {ratio} | {same} "
            f"| {bare} | {p99_ratio} |"
        )
    mem = result["memory"]
    lines += ["", "| memory | bytes per link |", "|---|---|"]
    lines += [f"| {k.replace('_', ' ')} | {v:,.0f} |" for k, v in mem.items()]
    return lines


def _generic_table(result: dict[str, Any]) -> list[str]:
    lines = ["| measure | value |", "|---|---|"]
    for key, value in result.items():
        shown = f"{value:,.2f}" if isinstance(value, float) else str(value)
        lines.append(f"| {key.replace('_', ' ')} | {shown} |")
    return lines


def main() -> None:
    seconds = int(os.environ.get("KURZ_BENCH_SECONDS", "6"))
    rounds = int(os.environ.get("KURZ_BENCH_ROUNDS", "3"))
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    raw: dict[str, Any] = {"started": started, "machine": platform.node(), "cpus": os.cpu_count()}
    md = [f"# kurz benchmarks ({started}, {os.cpu_count()} CPUs)", ""]
    from bench import redirect

    raw["redirect"] = redirect.run(seconds=seconds, rounds=rounds)
    md += [
        f"## Redirects (wrk -t1 -c64, loopback; median of {rounds} rounds of {seconds} s)",
        "",
        *_redirect_table(raw["redirect"]),
        "",
    ]
    for module, title in OTHERS:
        try:
            mod = importlib.import_module(f"bench.{module}")
        except ModuleNotFoundError:
            continue
        try:
            raw[module] = mod.run()
        except Exception:
            raw[module] = {"error": traceback.format_exc(limit=3)}
        md += [f"## {title}", "", *_generic_table(raw[module]), ""]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.md").write_text("\n".join(md) + "\n")
    (RESULTS / "latest.json").write_text(json.dumps(raw, indent=2) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
