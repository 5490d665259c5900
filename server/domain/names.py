"""Near-duplicate place names, by how they sound and how they are written.

Registers typed by different people spell one village with different characters of the
same sound: 阳洪 / 杨洪, 王家 / 汪家, 龙泉 / 隆泉, and add a word as they go: 巨州 / 新巨洲.
pypinyin reads each name (toneless, so 阳 yáng and 杨 yáng meet, and 龍 reads as 龙), then:

- same core name (after dropping 村 / 服务点 / 农家书屋 …): `same_core`;
- same sound, different characters: `same_sound`;
- one name's sound inside the other's, where the shared syllables are written with other
  characters: `sound_within` (巨州 in 新巨洲: ju-zhou, but 州 ≠ 洲).

What is never flagged: a name that contains the other written exactly the same way. 白塔村
and 白塔东村 are two villages (East Baita is a place of its own), and so are 王家 and 王家庄.
The decision is what makes a likely typing variant: the same sound with other characters.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin

SUFFIXES = ("农家书屋", "服务点", "村委会", "居委会", "分馆", "社区", "村")


def core(name: str) -> str:
    """The distinctive part: NFKC, no spaces, common suffixes dropped (repeatedly, so
    白塔村服务点 → 白塔), never down to nothing."""
    text = unicodedata.normalize("NFKC", name).replace(" ", "").strip()
    changed = True
    while changed:
        changed = False
        for suffix in SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text, changed = text[: -len(suffix)], True
    return text


def syllables(text: str) -> list[str]:
    """One toneless syllable per character (non-Chinese characters stand for themselves)."""
    # errors= keeps what is not Chinese; pypinyin splits a returned list one per character
    keep = lambda chars: list(chars)  # noqa: E731
    return [s.lower() for s in lazy_pinyin(text, style=Style.NORMAL, errors=keep)]  # type: ignore[arg-type]


@dataclass(frozen=True)
class Likeness:
    reason: str  # same_core | same_sound | sound_within
    pinyin: str  # what both names read as, e.g. "yang hong"


def likeness(a: str, b: str) -> Likeness | None:
    """Why two names look like one place, or None. Identical full names are the caller's
    business (that is a plain duplicate, not a likeness)."""
    ca, cb = core(a), core(b)
    if not ca or not cb:
        return None
    if ca == cb:
        return Likeness("same_core", " ".join(syllables(ca)))
    if min(len(ca), len(cb)) < 2:
        return None  # one-character names sound alike by chance too often
    sa, sb = syllables(ca), syllables(cb)
    if len(sa) != len(ca) or len(sb) != len(cb):
        return None  # a reading that does not map one syllable per character
    if sa == sb:
        return Likeness("same_sound", " ".join(sa))
    short, long_, cs, cl = (sa, sb, ca, cb) if len(sa) < len(sb) else (sb, sa, cb, ca)
    for start in range(len(long_) - len(short) + 1):
        if long_[start : start + len(short)] == short and cl[start : start + len(short)] != cs:
            return Likeness("sound_within", " ".join(short))
    return None
