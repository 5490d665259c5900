"""Point rating: 达标 (good) / 基本达标 (basic) / 不达标 (fail) / 未完成 (incomplete).

An unfinished checklist is not a failing library (architecture.md, "Not inspected"): a
required item left blank ("missing") was not inspected, so it cannot fail the point. A
critical item answered and failing decides 不达标 whatever else is blank (that much is
known); otherwise any required item not inspected makes the inspection 未完成, and the
rating names those items. Only a complete inspection gets 达标 or 基本达标, decided by the
share of other scored items that pass (an unanswered optional item, "na", is left out).
"""

from __future__ import annotations

from typing import Any

from server.domain.templates import Template


def rate(template: Template, results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Rate item results from `rules.evaluate`.

    Returns {"code": "good"|"basic"|"fail"|"incomplete", "critical_failed": [critical keys
    answered and failing, template order], "not_inspected": [keys left blank, template order],
    "passed", "scored"} (all scored items that count: pass/fail/missing, not na) and
    "other_passed", "other_scored" (the same for non-critical items: the good_ratio basis).
    With no non-critical item counted the ratio test holds vacuously.
    """
    critical_failed: list[str] = []
    not_inspected: list[str] = []
    passed = scored = other_passed = other_scored = 0
    for item in template.items:
        status = results[item.key]["status"]
        if status == "missing":
            not_inspected.append(item.key)
        if not item.scored:
            continue
        if item.critical and status not in ("pass", "missing"):
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
    elif not_inspected:
        code = "incomplete"
    # Division, not passed >= ratio * scored: 0.7 * 10 is 7.000000000000001 in doubles.
    elif other_scored == 0 or other_passed / other_scored >= template.good_ratio:
        code = "good"
    else:
        code = "basic"
    return {
        "code": code,
        "critical_failed": critical_failed,
        "not_inspected": not_inspected,
        "passed": passed,
        "scored": scored,
        "other_passed": other_passed,
        "other_scored": other_scored,
    }
