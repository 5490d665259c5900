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
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from desk_scale import build  # noqa: E402

from server.migrate import upgrade  # noqa: E402

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


def first_codes(url: str) -> tuple[str, str]:
    from sqlalchemy import create_engine, text

    eng = create_engine(url)
    with eng.connect() as c:
        county = c.execute(text("SELECT code FROM area WHERE level='county' ORDER BY code")).first()
        township = c.execute(
            text(
                "SELECT a.code FROM area a JOIN service_point p ON p.township_id = a.id "
                "WHERE a.level='township' GROUP BY a.code ORDER BY a.code"
            )
        ).first()
    eng.dispose()
    assert county and township
    return county[0], township[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", type=int, default=20_000)
    ap.add_argument("--townships", type=int, default=1_500)
    ap.add_argument("--counties", type=int, default=100)
    ap.add_argument("--inspections", type=int, default=200_000)
    ap.add_argument("--keep", help="folder for the SQLite file (kept for another run)")
    ap.add_argument("--reuse", action="store_true", help="measure the existing data again")
    args = ap.parse_args()
    tmp = Path(args.keep or tempfile.mkdtemp(prefix="xj-rep-"))
    tmp.mkdir(parents=True, exist_ok=True)
    db = tmp / "reports.db"
    url = f"sqlite:///{db}"
    if not args.reuse:
        db.unlink(missing_ok=True)
    upgrade(url)
    if not args.reuse:
        print("building:", flush=True)
        build(url, args.points, args.townships, args.counties, args.inspections)
    county, township = first_codes(url)
    print(f"load average before: {os.getloadavg()}", flush=True)
    print("| report | format | area | wall (s) | CPU (s) | peak RSS (MiB) | size (KiB) |")
    print("|---|---|---|---|---|---|---|")
    for label, kind, fmt, area in CASES:
        code = {"county": county, "township": township}.get(area, area)
        out = tmp / f"{kind}-{code}.{fmt}"
        wall, cpu, peak = run(url, tmp / "data", kind, fmt, code, out)
        size = out.stat().st_size / 1024
        row = f"| {label} | {fmt} | {code} | {wall:.1f} | {cpu:.1f} | {peak:.0f} | {size:.0f} |"
        print(row, flush=True)
    print(f"load average after: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
