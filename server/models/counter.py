"""The change sequence that sync cursors count in.

Every synced row carries `seq`, taken from this one-row counter inside the writing
transaction. Taking it locks the row until commit, so sequence numbers become visible in
order and a cursor never skips a row that commits late (see services/changes.py).
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class ChangeCounter(SQLModel, table=True):
    __tablename__ = "change_counter"

    id: int = Field(default=1, primary_key=True)
    value: int = 0
