"""Each point's latest submitted inspection: the one with the greatest (submitted_at, id).

A sync batch asks it for every point it touches, under the writer lock (whether an op's
inspection is the latest decides its follow-ups), and the pull's point rows carry it. Reading
every submitted inspection of the points and keeping the greatest made both grow with the
points' history. Here the index `inspection (point_id, status, submitted_at)` (migration
0014) gives each point's latest inspection and the time of the one before at once. Where
the two times are equal, the id decides, compared here in Python, so the same way on both
databases (PostgreSQL would order ids by its collation).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Connection, select

from server.db import chunked
from server.models import Inspection, ServicePoint

INSP = Inspection.__table__  # type: ignore[attr-defined]
POINT = ServicePoint.__table__  # type: ignore[attr-defined]


def latest_submitted(conn: Connection, point_ids: Iterable[int], *columns: Any) -> Iterator[Any]:
    """Per point that has a submitted inspection, its latest one: rows of (point_id, id,
    submitted_at, *columns); `columns` are the inspection table's."""
    rows = select(INSP.c.point_id, INSP.c.id, INSP.c.submitted_at, *columns)
    for part in chunked(set(point_ids)):
        # subqueries in the select list run once per point, through the index, on both
        # databases and whatever their statistics (as a join, PostgreSQL without them read
        # every submitted inspection)
        tops = conn.execute(
            select(POINT.c.id, _newest(INSP.c.id, 0), _newest(INSP.c.submitted_at, 1)).where(
                POINT.c.id.in_(part)
            )
        ).all()
        second = {pid: at for pid, _, at in tops}
        found = [iid for _, iid, _ in tops if iid is not None]
        best: dict[int, Any] = {}
        for row in conn.execute(rows.where(INSP.c.id.in_(found))) if found else ():
            if row.submitted_at != second[row.point_id]:
                best[row.point_id] = row
            else:  # a tie for the latest time: the id decides, compared here
                every = rows.where(
                    INSP.c.point_id == row.point_id,
                    INSP.c.status == "submitted",
                    INSP.c.submitted_at == row.submitted_at,
                )
                best[row.point_id] = max([row, *conn.execute(every)], key=lambda r: r.id)
        yield from best.values()


def _newest(column: Any, offset: int) -> Any:
    """`column` of the point's latest submitted inspection (offset 0), or of the one before."""
    return (
        select(column)
        .where(
            INSP.c.point_id == POINT.c.id,
            INSP.c.status == "submitted",
            INSP.c.submitted_at.is_not(None),
        )
        .order_by(INSP.c.submitted_at.desc())
        .limit(1)
        .offset(offset)
        .scalar_subquery()
    )
