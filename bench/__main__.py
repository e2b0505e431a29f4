"""``python -m bench``: run every benchmark in turn and print a summary.

Options: ``--only NAME`` (repeatable) runs a subset; ``--strict`` exits with
status 1 when a target is missed (by default only a crashed benchmark makes
the exit status non-zero, since the targets are reports, not gates).
"""

from __future__ import annotations

import argparse
import asyncio
import time
import traceback
from collections.abc import Callable, Coroutine
from typing import Any

from bench import (
    abuse_load,
    cameras_per_machine,
    chart_query,
    composite_cost,
    first_frame,
    ingest_capacity,
    latency,
    model_latency,
    pipeline_efficiency,
    relay_cost,
    stream_selection,
    switch_latency,
)
from bench.harness import BenchResult, machine

BENCHMARKS: dict[str, Callable[[], Coroutine[Any, Any, BenchResult]]] = {
    "relay_cost": relay_cost.run,
    "latency": latency.run,
    "first_frame": first_frame.run,
    "ingest_capacity": ingest_capacity.run,
    "switch_latency": switch_latency.run,
    "composite_cost": composite_cost.run,
    "pipeline_efficiency": pipeline_efficiency.run,
    "model_latency": model_latency.run,
    "cameras_per_machine": cameras_per_machine.run,
    "stream_selection": stream_selection.run,
    "abuse_load": abuse_load.run,
    "chart_query": chart_query.run,
}


def main() -> int:
    """Run the chosen benchmarks; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", action="append", choices=list(BENCHMARKS))
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()
    names = args.only or list(BENCHMARKS)
    print("machine:", ", ".join(f"{k}={v}" for k, v in machine().items()))
    results: dict[str, BenchResult | None] = {}
    durations: dict[str, float] = {}
    for name in names:
        t0 = time.monotonic()
        try:
            result = asyncio.run(BENCHMARKS[name]())
        except Exception:
            traceback.print_exc()
            results[name] = None
        else:
            result.print()
            result.save()
            results[name] = result
        durations[name] = time.monotonic() - t0
    print("\n=== summary ===")
    for name in names:
        res = results[name]
        took = f"{durations[name]:5.0f} s"
        if res is None:
            print(f"{name:16} ERROR  {took}")
            continue
        verdict = "PASS" if res.passed else "FAIL"
        print(
            f"{name:16} {verdict}   {took}  ratio {res.ratio:.3f}  {res.target_label}"
        )
        print(f"{'':16}        {res.ratio_label}")
    if any(r is None for r in results.values()):
        return 2
    if args.strict and not all(r is not None and r.passed for r in results.values()):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
