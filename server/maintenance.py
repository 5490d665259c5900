"""Housekeeping each server process does in the background: abandoned partial photo
uploads are swept (hourly and at start-up).

Why in the server and not a cron job: a county box has no admin to install one, and the
sweep is safe to run in every worker at once (a partial file being written is locked, and
the sweeper never waits for a lock). It runs in the thread pool, off the event loop.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.concurrency import run_in_threadpool

from server.services.blobstore import sweep_partials
from server.settings import Settings

log = logging.getLogger("xunjian")
EVERY_SECONDS = 3600


def sweep_once(settings: Settings) -> list[str]:
    """One pass of every chore; what it removed, for the log and the tests."""
    removed = sweep_partials(settings.data_path, settings.partial_upload_hours * 3600)
    if removed:
        log.info("removed %d abandoned partial upload(s)", len(removed))
    return removed


async def run_forever(settings: Settings) -> None:
    while True:
        try:
            await run_in_threadpool(sweep_once, settings)
        except Exception:  # a chore that fails must not take the server down; try next hour
            log.exception("housekeeping failed")
        await asyncio.sleep(EVERY_SECONDS)
