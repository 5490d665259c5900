"""Point rating: 达标 (good) / 基本达标 (basic) / 不达标 (fail), per standards.md.

Critical items decide fail; the share of other scored items that pass decides good vs
basic. An unanswered optional item ("na") is left out of the share, while an unanswered
required item ("missing") counts as not passing, so leaving a field blank never helps.
"""

from __future__ import annotations

from typing import Any

from server.domain.templates import Template


def rate(template: Template, results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Rate item results from `rules.evaluate`.

    Returns {"code": "good"|"basic"|"fail", "critical_failed": [keys, template order],
    "passed", "scored"} (all scored items that count: pass/fail/missing, not na) and
    "other_passed", "other_scored" (the same for non-critical items: the good_ratio basis).
    With no non-critical item counted the ratio test holds vacuously.
    """
    critical_failed: list[str] = []
    passed = scored = other_passed = other_scored = 0
    for item in template.items:
        if not item.scored:
            continue
        status = results[item.key]["status"]
        if item.critical and status != "pass":
            critical_failed.append(item.key)
        if status == "na":
            continue
        scored += 1
        passed += status == "pass"
        if not item.critical:
            other_scored += 1
            other_passed += status == "pass"
    if critical_failed:
        code = "fail"
    # Division, not passed >= ratio * scored: 0.7 * 10 is 7.000000000000001 in doubles.
    elif other_scored == 0 or other_passed / other_scored >= template.good_ratio:
        code = "good"
    else:
        code = "basic"
    return {
        "code": code,
        "critical_failed": critical_failed,
        "passed": passed,
        "scored": scored,
        "other_passed": other_passed,
        "other_scored": other_scored,
    }
