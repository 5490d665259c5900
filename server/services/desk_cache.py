"""Figures of a whole city or province, kept while the data they are made of stands still.

Why: the overview of a province sums 100 counties and its map draws 20,000 points; built,
they cost 25 and 120 ms of CPU, checked, two indexed reads. The version is the change
counter (services/changes.py: every change to a point, an inspection, a follow-up, a plan,
an area or a cycle takes a number from it, or the phones' sync cursors would miss it) and
the boundaries' upload stamps. An age bound catches a write made without a stamp (a repair,
a bulk load, a user's new display name). One cache per database (engine), so two apps in
one process (the tests) never share an entry; scope is checked before, by the caller.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from time import monotonic
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from server.models import Area, AreaBoundary, ChangeCounter, ServicePoint

T = TypeVar("T")
MAX_AGE_SECONDS = 60.0
ENTRIES = 16  # per kind and database: a province's map data is 1.5 MB
_caches: WeakKeyDictionary[Engine, OrderedDict[tuple, tuple[tuple, float, Any]]] = (
    WeakKeyDictionary()
)
_lock = threading.Lock()


def data_version(session: Session) -> tuple:
    """What changes whenever anything the desk shows does (see the module's docstring)."""
    counter = session.exec(select(ChangeCounter.value).where(ChangeCounter.id == 1)).first()
    shapes = session.exec(select(func.count(), func.max(AreaBoundary.updated_at))).one()
    return (counter, *shapes)


def points_version(session: Session) -> tuple:
    """What changes whenever a point or an area does (their changes are stamped, as every
    synced row's): not an inspection's arrival."""
    sp, ar = ServicePoint.__table__, Area.__table__  # type: ignore[attr-defined]
    points = session.connection().execute(select(func.max(sp.c.seq), func.count())).one()
    areas = session.connection().execute(select(func.max(ar.c.seq), func.count())).one()
    return (*points, *areas)


def kept(
    session: Session,
    key: tuple,
    build: Callable[[], T],
    version: Callable[[Session], tuple] = data_version,
    max_age: float | None = MAX_AGE_SECONDS,
) -> T:
    """The value kept under `key` for this database if the data has not changed since it
    was built (and it is younger than `max_age`, when its version can miss a write), else
    `build()`, kept. Kept values are shared between requests: they are read, never
    changed."""
    version_now = version(session)
    now = monotonic()
    with _lock:
        cache = _caches.setdefault(session.get_bind().engine, OrderedDict())
        hit = cache.get(key)
        young = max_age is None or (hit is not None and now - hit[1] < max_age)
        if hit is not None and hit[0] == version_now and young:
            cache.move_to_end(key)
            return hit[2]
    value = build()
    with _lock:
        cache[key] = (version_now, now, value)
        cache.move_to_end(key)
        while len(cache) > ENTRIES * 2:
            cache.popitem(last=False)
    return value


def clear(kind: str | None = None) -> None:
    """Forget every kept value, or those of one kind (the first part of their keys): the
    bench measures the pages as built."""
    with _lock:
        if kind is None:
            _caches.clear()
            return
        for cache in _caches.values():
            for key in [k for k in cache if k[0] == kind]:
                del cache[key]
