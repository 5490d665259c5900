"""Division codes say their own level and parent (domain/divisions.py)."""

from __future__ import annotations

import pytest

from server.domain.divisions import DivisionError, is_county_code, parse_code


@pytest.mark.parametrize(
    ("raw", "code", "level", "parent"),
    [
        ("610000000000", "610000", "province", None),
        ("610400000000", "610400", "city", "610000"),
        ("610425000000", "610425", "county", "610400"),
        ("610425101000", "610425101", "township", "610425"),
        ("610425101201", "610425101201", "village", "610425101"),
        ("610425", "610425", "county", "610400"),
        ("610425101", "610425101", "township", "610425"),
        ("610425000", "610425", "county", "610400"),
        ("６１０４２５", "610425", "county", "610400"),  # full-width digits from Excel
        (" 610425 ", "610425", "county", "610400"),
        (610425101000, "610425101", "township", "610425"),  # a number cell
        ("110101", "110101", "county", "110100"),  # 北京 东城区 under 市辖区
        ("441900003000", "441900003", "township", "441900"),  # 东莞: no counties
    ],
)
def test_codes_build_the_hierarchy(raw, code, level, parent):
    d = parse_code(raw)
    assert (d.code, d.level, d.parent) == (code, level, parent)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("61042", "code_length"),
        ("6104251010", "code_length"),
        ("61O425", "code_not_digits"),
        ("", "code_not_digits"),
        ("990000", "code_province"),
        ("000000000000", "code_province"),
    ],
)
def test_bad_codes_say_why(raw, reason):
    with pytest.raises(DivisionError) as exc:
        parse_code(raw)
    assert exc.value.reason == reason


def test_is_county_code():
    assert is_county_code("610425") and not is_county_code("610425101")
    assert not is_county_code("610400") and not is_county_code("x")
