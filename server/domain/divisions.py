"""China's statistical division codes (统计用区划代码, GB/T 2260 and its 12-digit extension).

A code says its own place in the hierarchy, so areas are built from the codes alone:

    61 04 24 109 201
    │  │  │  │   └ village (村/居委会): 001–999; 000 above this level
    │  │  │  └ township (乡镇/街道): 001–999; 000 above this level
    │  │  └ county (县/区): 01–99; 00 for a city
    │  └ city (地级市): 01–99; 00 for a province
    └ province (省): 11–82

The 6-digit form (610424) is a county or above, the 9-digit form (610424109) a township,
the 12-digit form any level padded with zeros. We store the shortest form of each level
(610000, 610400, 610424, 610424109), as the demo and every published list does.

Trap: a few prefecture-level cities have no counties (东莞 441900, 中山 442000, 儋州
460400, 嘉峪关 620200), so their townships' six-digit prefix is the city itself. The parent
is always the six-digit prefix, whatever level it has.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# GB/T 2260 province prefixes (mainland, then Taiwan, Hong Kong and Macao).
PROVINCES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37"}
    | {"41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64"}
    | {"65", "71", "81", "82"}
)
DEPTH = {"province": 0, "city": 1, "county": 2, "township": 3, "village": 4}


class DivisionError(ValueError):
    """A code that is not a division code. `reason` is a message code (see messages)."""

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(f"{reason}: {code!r}")
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class Division:
    code: str  # the shortest form of its level
    level: str  # province | city | county | township | village
    parent: str | None  # the parent's code (shortest form); None for a province

    @property
    def depth(self) -> int:
        return DEPTH[self.level]


def clean_code(raw: object) -> str:
    """Full-width digits and stray spaces are what Excel on Chinese Windows leaves in a code."""
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    return text.replace(" ", "")


def parse_code(raw: object) -> Division:
    """The division a code names, or DivisionError(`code_not_digits` | `code_length` |
    `code_province`)."""
    code = clean_code(raw)
    if not code.isascii() or not code.isdigit():
        raise DivisionError("code_not_digits", code)
    if len(code) not in (6, 9, 12):
        raise DivisionError("code_length", code)
    if code[:2] not in PROVINCES:
        raise DivisionError("code_province", code)
    if len(code) == 12 and code[9:] != "000":
        return Division(code, "village", code[:9])
    if len(code) >= 9 and code[6:9] != "000":
        return Division(code[:9], "township", code[:6])
    six = code[:6]
    if six[2:] == "0000":
        return Division(six, "province", None)
    if six[4:] == "00":
        return Division(six, "city", six[:2] + "0000")
    return Division(six, "county", six[:4] + "00")


def is_county_code(raw: object) -> bool:
    try:
        return parse_code(raw).level == "county"
    except DivisionError:
        return False
