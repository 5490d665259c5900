"""Near-duplicate names by sound and writing (domain/names.py, with pypinyin)."""

from __future__ import annotations

import pytest

from server.domain.names import core, likeness


@pytest.mark.parametrize(
    ("a", "b", "reason", "pinyin"),
    [
        ("阳洪", "杨洪", "same_sound", "yang hong"),
        ("阳洪村服务点", "杨洪村", "same_sound", "yang hong"),
        ("王家", "汪家", "same_sound", "wang jia"),
        ("龙泉村", "隆泉村服务点", "same_sound", "long quan"),
        ("龙泉", "龍泉", "same_sound", "long quan"),  # a traditional character
        ("巨州", "新巨洲", "sound_within", "ju zhou"),
        ("巨州村服务点", "新巨洲村服务点", "sound_within", "ju zhou"),
        ("白塔村", "白塔村服务点", "same_core", "bai ta"),
        ("上旦 村", "上旦村农家书屋", "same_core", "shang dan"),
    ],
)
def test_variants_are_found(a, b, reason, pinyin):
    for x, y in ((a, b), (b, a)):
        found = likeness(x, y)
        assert found is not None, (x, y)
        assert (found.reason, found.pinyin) == (reason, pinyin)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("白塔村", "白塔东村"),  # East Baita is a village of its own
        ("王家", "王家庄"),
        ("上官村", "北昌村"),
        ("马里村", "马连村"),
        ("马村", "麻村"),  # one-character names sound alike by chance
        ("巨州", "小留"),
    ],
)
def test_different_places_are_not_flagged(a, b):
    assert likeness(a, b) is None and likeness(b, a) is None


def test_core_drops_suffixes_but_never_everything():
    assert core("白塔村服务点") == "白塔" and core("白塔东村") == "白塔东"
    assert core("村") == "村" and core("分馆") == "分馆"
