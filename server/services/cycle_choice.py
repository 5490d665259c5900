"""Which assessment cycle a page is about (`?cycle=ID`), for an area of any level.

A cycle belongs to one county, but a city or a province looks at many counties at once. So
for one county the choice is among its own cycles; above a county it is a year, and each
county contributes its own cycle of that year (its current one when it has several). The
picker's value stays a cycle id either way, so every link speaks one URL contract: above a
county, the id stands for its year. Without a choice (or with one from elsewhere) the page
shows the latest cycle that has inspections, else the current one, so a county that has not
started this year still opens on figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from server.models import Area, AreaSummary, Cycle


@dataclass(frozen=True)
class Option:
    cycle_id: int
    name: str  # a cycle's name; above a county, empty (the page shows the year)
    year: int


@dataclass(frozen=True)
class CycleChoice:
    """The chosen cycle of each county in an area, and the one before it (for the change)."""

    by_county: dict[int, Cycle]
    previous: dict[int, Cycle]
    options: list[Option]
    selected: int | None  # the id the picker shows as chosen
    single: bool  # one county: options are its cycles, not years

    @property
    def ids(self) -> list[int]:
        return sorted(c.id for c in self.by_county.values() if c.id is not None)

    @property
    def previous_ids(self) -> list[int]:
        return sorted(c.id for c in self.previous.values() if c.id is not None)


def choose(session: Session, counties: list[Area], requested: str | None) -> CycleChoice:
    """The cycles of these counties that `?cycle=` asks for, else the default."""
    county_ids = [c.id for c in counties if c.id is not None]
    cycles = list(session.exec(select(Cycle).where(Cycle.county_id.in_(county_ids))))  # type: ignore[attr-defined]
    if not cycles:
        return CycleChoice({}, {}, [], None, len(county_ids) == 1)
    by_id = {c.id: c for c in cycles if c.id is not None}
    with_data = set(
        session.exec(
            select(AreaSummary.cycle_id).where(
                AreaSummary.area_id.in_(county_ids),  # type: ignore[attr-defined]
                AreaSummary.cycle_id.in_(list(by_id)),  # type: ignore[attr-defined]
                AreaSummary.inspected > 0,
            )
        )
    )
    asked = by_id.get(_int(requested))
    single = len(county_ids) == 1
    if single:
        return _one_county(cycles, with_data, asked)
    return _by_year(cycles, with_data, asked)


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def _newest_first(cycles: list[Cycle]) -> list[Cycle]:
    return sorted(cycles, key=lambda c: (c.start_date, c.current, c.id or 0), reverse=True)


def _default(cycles: list[Cycle], with_data: set[int]) -> Cycle:
    ordered = _newest_first(cycles)
    return next(
        (c for c in ordered if c.id in with_data),
        next((c for c in ordered if c.current), ordered[0]),
    )


def _before(cycles: list[Cycle], cycle: Cycle) -> Cycle | None:
    earlier = [c for c in cycles if c.start_date < cycle.start_date]
    return _newest_first(earlier)[0] if earlier else None


def _one_county(cycles: list[Cycle], with_data: set[int], asked: Cycle | None) -> CycleChoice:
    chosen = asked or _default(cycles, with_data)
    prev = _before(cycles, chosen)
    options = [Option(c.id, c.name, c.year) for c in _newest_first(cycles) if c.id is not None]
    county = chosen.county_id
    return CycleChoice({county: chosen}, {county: prev} if prev else {}, options, chosen.id, True)


def _by_year(cycles: list[Cycle], with_data: set[int], asked: Cycle | None) -> CycleChoice:
    per_county: dict[int, list[Cycle]] = {}
    for c in cycles:
        per_county.setdefault(c.county_id, []).append(c)
    year = asked.year if asked else _default(cycles, with_data).year
    chosen: dict[int, Cycle] = {}
    previous: dict[int, Cycle] = {}
    for county, own in per_county.items():
        that_year = _newest_first([c for c in own if c.year == year])
        if not that_year:
            continue
        chosen[county] = that_year[0]
        prev = _before(own, that_year[0])
        if prev is not None:
            previous[county] = prev
    options = []
    for y in sorted({c.year for c in cycles}, reverse=True):
        stand_in = min(c.id for c in cycles if c.year == y and c.id is not None)
        options.append(Option(stand_in, "", y))
    selected = next(o.cycle_id for o in options if o.year == year)
    return CycleChoice(chosen, previous, options, selected, False)
