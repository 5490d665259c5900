"""One register cell at a time: what it means, or why it means nothing we may store.

Each reader takes the cell's text (already NFKC-normalised by sheets.clean) and returns
`(value, problem)`, where problem is `(key, params, severity)` or None. Nothing here guesses:
a cell that could mean two things is a problem, not a choice.
"""

from __future__ import annotations

import re

import phonenumbers

from server.domain.geo import check_position, parse_degrees
from server.services.sheets import header_key

Found = tuple[str, dict, str] | None  # (catalog key, params, severity)

KIND_WORDS = {
    "village": "village",
    "村服务点": "village",
    "村社区服务点": "village",
    "社区服务点": "village",
    "服务点": "village",
    "农家书屋": "village",
    "村": "village",
    "branch": "branch",
    "镇分馆": "branch",
    "镇街道分馆": "branch",
    "乡镇分馆": "branch",
    "街道分馆": "branch",
    "分馆": "branch",
}
TRUE_WORDS = {"1", "true", "yes", "y", "是", "启用", "开放", "正常", "√", "✓"}
FALSE_WORDS = {"0", "false", "no", "n", "否", "停用", "关闭", "×", "✗"}
CODE = re.compile(r"^[0-9A-Za-z-]{4,32}$")
_PHONE_JUNK = re.compile(r"[\s\-()（）.]")


def has_control(text: str) -> bool:
    """NUL and other control characters: PostgreSQL refuses NUL, and no register means one."""
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


def kind(raw: str) -> tuple[str | None, Found]:
    """'村（社区）服务点' → village: brackets and spaces do not change the word."""
    value = KIND_WORDS.get(header_key(raw)) or KIND_WORDS.get(raw.strip().lower())
    if value is None:
        return None, ("import.unknown_kind", {"kind": raw}, "error")
    return value, None


def yes_no(raw: str) -> tuple[bool | None, Found]:
    word = header_key(raw)
    if word in TRUE_WORDS:
        return True, None
    if word in FALSE_WORDS:
        return False, None
    return None, ("import.not_yes_no", {"value": raw}, "error")


def phone(raw: str) -> tuple[str | None, Found]:
    """One stored form: a mobile as 11 digits (13812345678), a fixed line as area code,
    dash, number (029-88888888), any other valid number as its national digits. +86, 0086,
    spaces, dashes and brackets are dropped; the number must be valid for China."""
    digits = _PHONE_JUNK.sub("", raw)
    try:
        number = phonenumbers.parse(digits, "CN")
    except phonenumbers.NumberParseException:
        return None, ("import.phone_bad", {"value": raw}, "error")
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        return None, ("import.phone_bad", {"value": raw}, "error")
    national = str(number.national_number)
    kind_ = phonenumbers.number_type(number)
    if kind_ == phonenumbers.PhoneNumberType.MOBILE:
        return national, None
    area = phonenumbers.length_of_geographical_area_code(number)
    if area:
        stored = f"0{national[:area]}-{national[area:]}"
        bare = digits.lstrip("+")
        if bare == national:  # Excel read "02988888888" as the number 2988888888
            return stored, ("import.phone_zero", {"value": raw, "phone": stored}, "warning")
        return stored, None
    return national, None


def position(lat_raw: str, lon_raw: str) -> tuple[tuple[float, float] | None, list]:
    """(lat, lon) or None, with problems as (field, key, params, severity)."""
    found = []
    lat, lon = parse_degrees(lat_raw), parse_degrees(lon_raw)
    for fld, raw, value in (("lat", lat_raw, lat), ("lon", lon_raw, lon)):
        if raw and value is None:
            found.append((fld, "import.not_a_number", {"value": raw}, "error"))
    if found:
        return None, found
    if (lat is None) != (lon is None):
        return None, [("lat", "import.coords_pair", {}, "error")]
    if lat is None or lon is None:
        return None, []
    if code := check_position(lat, lon):
        return None, [("lat", f"import.{code}", {"lat": lat, "lon": lon}, "error")]
    return (lat, lon), []
