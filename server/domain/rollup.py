"""Roll one inspection cycle up to townships and the county.

This is the figure the county library takes to the annual assessment (公共文化服务目标责任
考核): coverage of active points, ratings, per-item pass rates and the critical failures
to follow up. It works on plain rows so the service layer decides how to query them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.clock import as_utc

# "incomplete" (未完成) is counted beside the ratings, never as one of them: a checklist left
# unfinished says nothing about the library (architecture.md, "Not inspected").
RATINGS = ("good", "basic", "fail", "incomplete")


@dataclass(frozen=True)
class PointRow:
    """A service point (村服务点 "village" or 镇分馆 "branch") of the county register."""

    code: str
    name: str
    kind: str
    township_code: str
    township_name: str
    active: bool = True


@dataclass(frozen=True)
class InspectionRow:
    """One inspection of the cycle; `result` is what `rules.evaluate` returned for it."""

    id: str
    point_code: str
    status: str  # "draft" | "submitted"
    submitted_at: datetime | str | None
    result: dict[str, Any] | None
    template_version: int | None = None


def rollup_cycle(
    points: Iterable[PointRow], inspections: Iterable[InspectionRow]
) -> dict[str, Any]:
    """Summarise a cycle. JSON-ready.

    Only the latest submitted inspection of each point counts (latest `submitted_at`, then
    the greater id), so a re-inspection after 限期整改 replaces the first verdict. Drafts never
    count. Inactive points are left out of every denominator and list, even if inspected.
    Results are combined by item key, so inspections made under different template versions
    in one cycle add up wherever their items share a key.

    Returns {"county": summary, "townships": [summary + "code", "name"; by code],
    "points": [one row per active point], "unknown_point_inspections": [ids]}, where a
    summary is {"active_points", "inspected_points", "coverage" (0..1, 4 decimals; 0.0
    without active points), "ratings": {good, basic, fail, incomplete}, "items": {key:
    {"passed", "counted", "rate"}} (na and not inspected not counted), "critical_failures":
    [...], "never_inspected": [...], "template_versions": {version: count}}.
    """
    all_points = list(points)
    known = {p.code for p in all_points}
    active = sorted((p for p in all_points if p.active), key=lambda p: p.code)
    active_codes = {p.code for p in active}

    latest: dict[str, tuple[tuple[datetime, str], InspectionRow]] = {}
    unknown: list[str] = []
    for insp in inspections:
        if insp.point_code not in known:
            unknown.append(str(insp.id))
            continue
        if insp.status != "submitted" or insp.submitted_at is None or insp.result is None:
            continue
        if insp.point_code not in active_codes:
            continue
        order = (_instant(insp.submitted_at), str(insp.id))
        if insp.point_code not in latest or order > latest[insp.point_code][0]:
            latest[insp.point_code] = (order, insp)
    chosen = {code: row for code, (_, row) in latest.items()}

    townships: dict[str, list[PointRow]] = {}
    for p in active:
        townships.setdefault(p.township_code, []).append(p)
    return {
        "county": _summary(active, chosen),
        "townships": [
            {"code": code, "name": pts[0].township_name, **_summary(pts, chosen)}
            for code, pts in sorted(townships.items())
        ],
        "points": [_point_row(p, chosen.get(p.code)) for p in active],
        "unknown_point_inspections": sorted(unknown),
    }


def _instant(v: datetime | str) -> datetime:
    # A naive time is taken as UTC so that naive and aware rows still sort together.
    return as_utc(datetime.fromisoformat(v) if isinstance(v, str) else v)


def _iso(v: datetime | str | None) -> str | None:
    return v.isoformat() if isinstance(v, datetime) else v


def _point_row(p: PointRow, insp: InspectionRow | None) -> dict[str, Any]:
    return {
        "code": p.code,
        "name": p.name,
        "kind": p.kind,
        "township_code": p.township_code,
        "inspection_id": insp.id if insp else None,
        "submitted_at": _iso(insp.submitted_at) if insp else None,
        "rating": insp.result["rating"]["code"] if insp and insp.result else None,
        "template_version": insp.template_version if insp else None,
    }


def _summary(points: list[PointRow], chosen: dict[str, InspectionRow]) -> dict[str, Any]:
    ratings = dict.fromkeys(RATINGS, 0)
    items: dict[str, dict[str, Any]] = {}
    critical: list[dict[str, Any]] = []
    never: list[dict[str, Any]] = []
    versions: dict[str, int] = {}
    inspected = 0
    for p in points:
        insp = chosen.get(p.code)
        if insp is None or insp.result is None:
            never.append({"code": p.code, "name": p.name, "township_code": p.township_code})
            continue
        inspected += 1
        result = insp.result
        ratings[result["rating"]["code"]] += 1
        version = str(insp.template_version)
        versions[version] = versions.get(version, 0) + 1
        for key, res in result["items"].items():
            if res["status"] in ("na", "missing"):
                continue
            stat = items.setdefault(key, {"passed": 0, "counted": 0})
            stat["counted"] += 1
            stat["passed"] += res["status"] == "pass"
        for key in result["rating"]["critical_failed"]:
            res = result["items"].get(key, {})
            critical.append(
                {
                    "point_code": p.code,
                    "point_name": p.name,
                    "township_code": p.township_code,
                    "item": key,
                    "status": res.get("status"),
                    "code": res.get("code"),
                    "params": res.get("params", {}),
                    "inspection_id": insp.id,
                }
            )
    for stat in items.values():
        stat["rate"] = round(stat["passed"] / stat["counted"], 4)
    return {
        "active_points": len(points),
        "inspected_points": inspected,
        "coverage": round(inspected / len(points), 4) if points else 0.0,
        "ratings": ratings,
        "items": items,
        "critical_failures": critical,
        "never_inspected": never,
        "template_versions": versions,
    }
