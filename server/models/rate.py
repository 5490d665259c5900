"""Failed-login counters, kept in the database so that every worker process counts the
same guesses (a limit per process would let N workers take N times the guesses)."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class RateCounter(SQLModel, table=True):
    __tablename__ = "rate_counter"

    key: str = Field(primary_key=True, max_length=160)  # "account:<name>" or "address:<ip>"
    window_start: int = 0  # epoch seconds: a fixed window, reset when it has passed
    count: int = 0
