"""Positions on the ground: degrees from a register cell, sanity checks for China, distances,
and whether a point lies in a GeoJSON (Multi)Polygon.

Pure: no SQL, no HTTP. Coordinates are WGS-84 degrees; GeoJSON orders them [lon, lat].
"""

from __future__ import annotations

import math
import re

# China's extent in degrees (曾母暗沙 to 漠河, 帕米尔 to 乌苏里江), with a little slack.
CHINA_LAT = (3.5, 54.0)
CHINA_LON = (73.0, 135.5)
EARTH_RADIUS_KM = 6371.0088
_DEGREES = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*°?\s*([NSEW北南东西]?)$", re.IGNORECASE)


def parse_degrees(raw: str) -> float | None:
    """'34.5276', '34.5276°', '108.24°E' / '东经108.24' style values; None if blank or not a
    decimal number (degrees-minutes-seconds are refused, not guessed at)."""
    text = raw.strip().replace("北纬", "").replace("东经", "").replace("南纬", "-")
    text = text.replace("西经", "-")
    if not text:
        return None
    m = _DEGREES.match(text)
    if not m:
        return None
    value = float(m.group(1))
    if m.group(2).upper() in {"S", "W", "南", "西"}:
        value = -value
    return value if math.isfinite(value) else None


def in_china(lat: float, lon: float) -> bool:
    return CHINA_LAT[0] <= lat <= CHINA_LAT[1] and CHINA_LON[0] <= lon <= CHINA_LON[1]


def check_position(lat: float, lon: float) -> str | None:
    """`swapped`, `outside_china` or None. Swapped is said before outside: a register with
    108.24 under 纬度 and 34.52 under 经度 is one mistake, not two."""
    if in_china(lat, lon):
        return None
    if in_china(lon, lat):
        return "swapped"
    return "outside_china"


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _in_ring(lon: float, lat: float, ring: list) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def contains(geometry: dict, lat: float, lon: float) -> bool:
    """Whether a GeoJSON Polygon or MultiPolygon holds the point (holes respected)."""
    kind = geometry.get("type")
    polygons = [geometry["coordinates"]] if kind == "Polygon" else geometry.get("coordinates", [])
    for rings in polygons:
        if (
            rings
            and _in_ring(lon, lat, rings[0])
            and not any(_in_ring(lon, lat, hole) for hole in rings[1:])
        ):
            return True
    return False


def bbox(geometry: dict) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat) of a (Multi)Polygon."""
    kind = geometry.get("type")
    polygons = [geometry["coordinates"]] if kind == "Polygon" else geometry["coordinates"]
    lons = [pt[0] for rings in polygons for ring in rings for pt in ring]
    lats = [pt[1] for rings in polygons for ring in rings for pt in ring]
    return min(lons), min(lats), max(lons), max(lats)
