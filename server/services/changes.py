"""Stamping rows with change sequence numbers (the sync cursor counts in these)."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session


def reserve_seq(session: Session, n: int = 1) -> int:
    """Reserve n numbers and return the last. The UPDATE locks the counter row until this
    transaction ends, so writers serialise here and numbers become visible in commit order:
    a cursor can never skip a row that commits late. Where in the transaction the numbers
    are taken does not matter, so a writer that changes many rows (a sync batch) reserves
    them all with one call just before writing them."""
    row = session.execute(
        text("UPDATE change_counter SET value = value + :n WHERE id = 1 RETURNING value"),
        {"n": n},
    ).first()
    if row is None:
        raise RuntimeError("change_counter is empty: run `xunjian db upgrade`")
    return int(row[0])


def stamp(session: Session, *rows) -> None:
    """Give each row its own new sequence number and add it to the session."""
    if not rows:
        return
    last = reserve_seq(session, len(rows))
    for offset, row in enumerate(rows):
        row.seq = last - len(rows) + 1 + offset
        session.add(row)
