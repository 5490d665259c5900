"""`xunjian serve` for bench/sync_ingest.py: the same command in its own process, plus what
the bench reads from it afterwards.

- `--lock-log FILE`: each applied batch's op count and writer-lock hold time, a line each
  (the server logs them at DEBUG to no handler, so a deployed server prints nothing).
- `--profile FILE`: cProfile of `apply_batch` (the locked section and its retry loop),
  written when the server stops. It slows that part down: such a run's rates are not figures.

    python bench/ingest_server.py --port 8123 --lock-log locks.txt [--profile prof.out]

Settings come from the environment, as for `xunjian serve` (XUNJIAN_DATABASE_URL, ...).
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import server.services.sync_round as sync_round
from server import cli


class LockLog(logging.Handler):
    def __init__(self, path: str) -> None:
        super().__init__(logging.DEBUG)
        self.out = open(path, "a", buffering=1)  # noqa: SIM115 (open till the server exits)

    def emit(self, record: logging.LogRecord) -> None:
        if hasattr(record, "lock_ms"):
            self.out.write(f"{record.ops} {record.lock_ms:.3f}\n")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--lock-log", required=True)
    ap.add_argument("--profile")
    args = ap.parse_args()
    logger = logging.getLogger("xunjian.sync")
    logger.addHandler(LockLog(args.lock_log))
    logger.setLevel(logging.DEBUG)
    prof = cProfile.Profile() if args.profile else None
    if prof is not None:
        real = sync_round.apply_batch

        def apply_batch(*a, **kw):
            prof.enable()
            try:
                return real(*a, **kw)
            finally:
                prof.disable()

        sync_round.apply_batch = apply_batch
    # uvicorn stops on SIGTERM, then raises it again with the handler it found: this one,
    # so the profile below is still written
    signal.signal(signal.SIGTERM, _stop)
    try:
        return cli.main(["serve", "--host", "127.0.0.1", "--port", str(args.port)])
    finally:
        if prof is not None:
            prof.dump_stats(args.profile)


def _stop(signum, frame) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    sys.exit(main())
