"""Reports at province scale: wall time and peak memory (max RSS) of `xunjian report` for
the province-sized dataset of the director's desk (bench/desk_scale.py builds it: one
province, 100 counties, 1,500 townships, 20,000 points, 200,000 submitted inspections,
their follow-ups and summaries).

Each report runs as its own `xunjian report` process (the CLI, so the figure is what an
operator sees, start-up included), and its peak memory is that process's ru_maxrss from
wait4. SQLite only: the report reads are the same queries on PostgreSQL.

    .venv/bin/python bench/report_scale.py                      # full size (builds ~10 min)
    .venv/bin/python bench/report_scale.py --points 2000 --inspections 20000
    .venv/bin/python bench/report_scale.py --keep /tmp/xj-rep --reuse
    .venv/bin/python bench/report_scale.py --keep /tmp/xj-rep --reuse --only answers:csv

The data is built, and the database migrated, in a child process, and this one imports
neither the server nor SQLAlchemy: Linux starts a child's peak RSS (ru_maxrss) at its
parent's RSS when it forks, so a parent holding the built province (144 MiB at a tenth)
would raise every smaller report's figure to its own.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
XUNJIAN = str(Path(sys.executable).with_name("xunjian"))
# (label, kind, format, area): the province, one county, one township
CASES = [
    ("readiness, province", "readiness", "xlsx", "610000"),
    ("readiness, province", "readiness", "csv", "610000"),
    ("book needs, province", "book-needs", "xlsx", "610000"),
    ("scores, province", "scores", "xlsx", "610000"),
    ("follow-ups (整改清单), province", "followups", "xlsx", "610000"),
    ("raw answers, province", "answers", "csv", "610000"),
    ("readiness, one county", "readiness", "pdf", "county"),
    ("follow-ups, one county", "followups", "pdf", "county"),
    ("evidence ledger, one township", "ledger", "pdf", "township"),
]


def run(
    url: str, data: Path, kind: str, fmt: str, area: str, out: Path
) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak MiB) of one `xunjian report` process. CPU time is
    given too because a busy machine stretches the wall time, not the work."""
    env = {**os.environ, "XUNJIAN_DATABASE_URL": url, "XUNJIAN_DATA_DIR": str(data)}
    cmd = [XUNJIAN, "report", "--kind", kind, "--format", fmt, "--area", area]
    cmd += ["-o", str(out), "--quiet"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(
            f"{' '.join(cmd)} failed: {proc.stderr.read().decode() if proc.stderr else ''}"
        )
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def first_codes(db: Path) -> tuple[str, str]:
    con = sqlite3.connect(db)
    try:
        county = con.execute("SELECT code FROM area WHERE level='county' ORDER BY code").fetchone()
        township = con.execute(
            "SELECT a.code FROM area a JOIN service_point p ON p.township_id = a.id "
            "WHERE a.level='township' GROUP BY a.code ORDER BY a.code"
        ).fetchone()
    finally:
        con.close()
    assert county and township
    return county[0], township[0]


def prepare(url: str, args: argparse.Namespace) -> None:
    """Migrate, and build unless --reuse, in a child process (see the module's docstring)."""
    code = (
        "import sys; sys.path[:0] = [sys.argv[1], sys.argv[1] + '/bench']\n"
        "from server.migrate import upgrade; upgrade(sys.argv[2])\n"
        "if len(sys.argv) > 3:\n"
        "    from desk_scale import build\n"
        "    print('building:', flush=True)\n"
        "    build(sys.argv[2], *map(int, sys.argv[3:]))\n"
    )
    sizes = [] if args.reuse else [args.points, args.townships, args.counties, args.inspections]
    subprocess.run([sys.executable, "-c", code, str(ROOT), url, *map(str, sizes)], check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", type=int, default=20_000)
    ap.add_argument("--townships", type=int, default=1_500)
    ap.add_argument("--counties", type=int, default=100)
    ap.add_argument("--inspections", type=int, default=200_000)
    ap.add_argument("--keep", help="folder for the SQLite file (kept for another run)")
    ap.add_argument("--reuse", action="store_true", help="measure the existing data again")
    ap.add_argument("--only", nargs="*", help="kind:format cases to run (answers:csv ...)")
    args = ap.parse_args()
    tmp = Path(args.keep or tempfile.mkdtemp(prefix="xj-rep-"))
    tmp.mkdir(parents=True, exist_ok=True)
    db = tmp / "reports.db"
    url = f"sqlite:///{db}"
    if not args.reuse:
        db.unlink(missing_ok=True)
    prepare(url, args)
    county, township = first_codes(db)
    print(f"load average before: {os.getloadavg()}", flush=True)
    print("| report | format | area | wall (s) | CPU (s) | peak RSS (MiB) | size (KiB) |")
    print("|---|---|---|---|---|---|---|")
    for label, kind, fmt, area in CASES:
        if args.only and f"{kind}:{fmt}" not in args.only:
            continue
        code = {"county": county, "township": township}.get(area, area)
        out = tmp / f"{kind}-{code}.{fmt}"
        wall, cpu, peak = run(url, tmp / "data", kind, fmt, code, out)
        size = out.stat().st_size / 1024
        row = f"| {label} | {fmt} | {code} | {wall:.1f} | {cpu:.1f} | {peak:.0f} | {size:.0f} |"
        print(row, flush=True)
    print(f"load average after: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
