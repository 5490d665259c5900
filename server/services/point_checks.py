"""The register checks that look across rows: near-duplicate names, and positions against
the county's township boundaries (or, without boundaries, its seat).

Only what this import changes is checked: a name that is new or renamed, a position that is
new or moved. Two similar names that both stood unchanged before were accepted then, so
re-importing an unchanged register reports nothing new.
"""

from __future__ import annotations

from server.domain.geo import contains, distance_km
from server.domain.names import likeness
from server.models import Area, AreaBoundary, ServicePoint
from server.services.problems import Problem

FAR_FROM_SEAT_KM = 60  # a warning only: most counties fit in this radius, a few do not
KEYS = {  # (likeness, compared with) -> message
    ("same_name", "row"): "import.same_name_row",
    ("same_name", "point"): "import.same_name_point",
    ("same_core", "row"): "import.similar_name_row",
    ("same_core", "point"): "import.similar_name_point",
    ("same_sound", "row"): "import.same_sound_row",
    ("same_sound", "point"): "import.same_sound_point",
    ("sound_within", "row"): "import.sound_within_row",
    ("sound_within", "point"): "import.sound_within_point",
}


def check_names(
    existing: dict[str, ServicePoint], rows: list, problems: list[Problem], allow_similar: bool
) -> None:
    """Within one township and kind: the same name twice is an error; a likely variant
    (by sound and writing, domain/names.py) is an error unless `allow_similar`."""
    file_codes = {plan.code for plan in rows}
    # the names as they will stand: stored points not in the file, then the file's rows
    standing: list[tuple[str, str, int, str, int | None]] = [
        (p.name, p.kind, p.township_id, p.code, None)
        for p in existing.values()
        if p.code not in file_codes
    ]
    fresh = []
    for plan in rows:
        rec = plan.record
        if not {"kind", "township_id"} <= rec.keys() or not plan.name:
            continue
        standing.append((plan.name, rec["kind"], rec["township_id"], plan.code, plan.row))
        if plan.action in ("create", "rename"):
            fresh.append(plan)
    fresh_rows = {plan.row for plan in fresh}
    for plan in fresh:
        kind, township = plan.record["kind"], plan.record["township_id"]
        for other, o_kind, o_township, code, o_row in standing:
            if o_row == plan.row or o_kind != kind or o_township != township:
                continue
            if o_row is not None and o_row in fresh_rows and o_row > plan.row:
                continue  # a pair of new rows is reported once, on the later row
            _compare(plan.row, plan.name, other, code, o_row, problems, allow_similar)


def _compare(row, name, other, other_code, other_row, problems, allow_similar) -> None:
    where = "row" if other_row is not None else "point"
    params = {"other": other_row, "name": other, "code": other_code}
    if name == other:
        problems.append(Problem(row, "name", KEYS[("same_name", where)], params))
        return
    like = likeness(name, other)
    if like is None or allow_similar:
        return
    params["pinyin"] = like.pinyin
    problems.append(Problem(row, "name", KEYS[(like.reason, where)], params))


def check_place(
    boundaries: dict[int, AreaBoundary], areas: dict[int, Area], rows: list, problems
) -> None:
    """A new or moved position must lie in the county: inside its township's boundary
    (else a warning naming the township it is in), inside some township of the county when
    all are loaded (else an error), or, with no boundaries, near the county seat (warning)."""
    for plan in rows:
        rec = plan.record
        moved = plan.action == "create" or {"lat", "lon"} & plan.changes.keys()
        if not moved or "lat" not in rec or "township_id" not in rec:
            continue
        township = areas[rec["township_id"]]
        county = areas.get(township.parent_id) if township.parent_id else None
        if county is None:
            continue
        siblings = [a for a in areas.values() if a.parent_id == county.id and a.level == "township"]
        loaded = [a for a in siblings if a.id in boundaries]
        lat, lon = rec["lat"], rec["lon"]
        inside = next((a for a in loaded if _in(boundaries[a.id], lat, lon)), None)
        if inside is not None and inside.id != township.id and township.id in boundaries:
            params = {"lat": lat, "lon": lon, "township": township.name, "other": inside.name}
            problems.append(Problem(plan.row, "lat", "import.outside_township", params, "warning"))
        elif inside is None and loaded and len(loaded) == len(siblings):
            params = {"lat": lat, "lon": lon, "county": county.name}
            problems.append(Problem(plan.row, "lat", "import.outside_county", params))
        elif inside is None and county.lat is not None and county.lon is not None:
            km = distance_km(lat, lon, county.lat, county.lon)
            if km > FAR_FROM_SEAT_KM:
                params = {"lat": lat, "lon": lon, "county": county.name, "km": round(km)}
                problems.append(Problem(plan.row, "lat", "import.far_from_seat", params, "warning"))


def _in(boundary: AreaBoundary, lat: float, lon: float) -> bool:
    if not (boundary.min_lat <= lat <= boundary.max_lat):
        return False
    if not (boundary.min_lon <= lon <= boundary.max_lon):
        return False
    return contains(boundary.geometry, lat, lon)
