"""CPU of the checks each sync op gets before the writer lock: `fit_problem` (do the
answers fit the checklist) and `rules.evaluate` (the verdict), on full village inspections.

No server, no database: the figure is pure Python time per op, best of several rounds.
"both" runs the two as sync_prepare does, sharing the weekly schedule's totals.

    .venv/bin/python bench/rules_cpu.py [--n 500] [--rounds 5]
"""

from __future__ import annotations

import argparse
import random
import time

from sync_common import full_record

from server.domain.rules import evaluate

try:
    from server.domain.hours import Schedules
except ImportError:  # before the totals were shared: time the old code too
    Schedules = None
from server.domain.templates import load_builtin_templates, parse_template
from server.services.sync_checks import fit_problem
from sync.records import normalize


def best(fn, rounds: int) -> tuple[float, float]:
    """Best wall time and best CPU time of the process (on a busy machine the CPU time is
    the steadier: time spent waiting for a core is not in it)."""
    wall, cpu = [], []
    for _ in range(rounds):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return min(wall), min(cpu)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    template = parse_template(load_builtin_templates()["village_point"])
    items = {i.key: i for i in template.items}
    rng = random.Random(12)
    records = [normalize(full_record(rng, f"P{n}", "dev")) for n in range(args.n)]

    def fit() -> None:
        for rec in records:
            fit_problem(items, rec)

    def verdict() -> None:
        for rec in records:
            evaluate(template, rec["answers"], rec["photos"])

    def both() -> None:  # as sync_prepare runs them, sharing the schedule's totals
        for rec in records:
            schedules = Schedules() if Schedules is not None else None
            fit_problem(items, rec, *([schedules] if schedules else []))
            evaluate(template, rec["answers"], rec["photos"], *([schedules] if schedules else []))

    for name, fn in (("fit_problem", fit), ("evaluate", verdict), ("both", both)):
        wall, cpu = (t / args.n * 1e6 for t in best(fn, args.rounds))
        print(f"{name:12} {wall:7.1f} us/op wall {cpu:7.1f} us/op cpu (best of {args.rounds})")


if __name__ == "__main__":
    main()
