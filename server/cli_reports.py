"""`xunjian report`: any report kind in any of its formats, the same content as the
download buttons (services/reports.py). A progress bar goes to stderr (one step per
township), so a province's ledger does not look hung, and stdout stays clean."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from server.reports.model import FORMATS, KINDS


def register(sub, opener) -> None:
    r = sub.add_parser("report", help="export a report (XLSX, PDF, HTML, CSV)")
    r.add_argument("--cycle", type=int, help="cycle id (default: each county's current one)")
    r.add_argument("--kind", required=True, choices=KINDS)
    r.add_argument("--format", required=True, choices=FORMATS, dest="fmt")
    r.add_argument("--area", help="area code (default: the cycle's county)")
    r.add_argument("--today", type=date.fromisoformat, help="report date (default: today)")
    r.add_argument("-o", "--output", required=True, type=Path, help="file to write")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(func=lambda args: cmd_report(args, opener))


class Bar:
    """A one-line progress bar on stderr, redrawn in place."""

    def __init__(self, label: str, quiet: bool) -> None:
        self.label, self.quiet = label, quiet

    def __call__(self, done: int, total: int) -> None:
        if self.quiet or not total:
            return
        width = 30
        filled = width * done // total
        bar = "█" * filled + "·" * (width - filled)
        print(f"\r{self.label} [{bar}] {done}/{total}", end="", file=sys.stderr, flush=True)
        if done >= total:
            print(file=sys.stderr, flush=True)


def cmd_report(args, opener) -> int:
    from server.cli import _LANG, CliError, say
    from server.pages.format import BEIJING
    from server.reports import write
    from server.services import reports

    if args.cycle is None and not args.area:
        raise CliError("cli.report_needs_area")
    today = args.today or _beijing_today(BEIJING)
    settings, scope = opener(args, write=False)
    with scope as session:
        area = reports.area_by_code(session, args.area) if args.area else None
        req = reports.Request(
            kind=args.kind,
            fmt=args.fmt,
            cycle_id=args.cycle,
            area=area,
            lang=_LANG[0],
            today=today,
            data_dir=settings.data_path,
        )
        bar = Bar(say("cli.report_reading"), args.quiet)
        report = reports.build(session, req, bar)
        print(say("cli.report_rendering", fmt=args.fmt), file=sys.stderr, flush=True)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        # Inside the session: a CSV's rows are read as they are written. Into a side file
        # first, so a failure halfway leaves no half report under the asked name.
        part = args.output.with_name(args.output.name + ".part")
        try:
            with part.open("wb") as out:
                size = write(report, args.fmt, out)
            part.replace(args.output)
        finally:
            part.unlink(missing_ok=True)
    print(say("cli.report_written", path=str(args.output), size=size))
    return 0


def _beijing_today(tz) -> date:
    from datetime import datetime

    return datetime.now(tz).date()
