"""pwa/js/rules.js must give exactly what server/domain/rules.py gives, for every shared case."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from server.domain.rules import evaluate
from tests.domain.test_rules import CASES, template_for

DRIVER = Path(__file__).resolve().parent / "run_rules_cases.mjs"


@pytest.fixture(scope="module")
def js_run():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    done = subprocess.run(
        [node, str(DRIVER)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def canonical(value):
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_js_matches_python(js_run, case):
    py = evaluate(template_for(case), case["answers"], case["photos"])
    assert canonical(js_run["results"][case["name"]]) == canonical(py)


def test_js_meets_every_expectation(js_run):
    assert js_run["failures"] == {}
    assert len(js_run["results"]) == len(CASES)


def random_value(item, rnd):
    """An answer for `item`: usually plausible, sometimes blank, malformed or of the wrong type."""
    roll = rnd.random()
    if roll < 0.08:
        return None
    if roll < 0.14:
        return rnd.choice(["", "  ", -1, "12", True, [], {}, 3.5, "\u3000"])
    keys = [o.key for o in item.options]
    if item.type == "number" and item.integer:  # a count; the odd values above try decimals
        return rnd.randint(0, 3000)
    if item.type == "number":
        return rnd.choice([rnd.randint(0, 3000), round(rnd.uniform(0, 100), rnd.randint(0, 3))])
    if item.type == "yesno":
        return rnd.random() < 0.7
    if item.type == "choice":
        return rnd.choice([*keys, "other"])
    if item.type == "multicheck":
        return rnd.sample([*keys, "other"], rnd.randint(0, len(keys)))
    if item.type == "text":
        return rnd.choice(
            ["13891234567", "029-35512345", "0293551234", "１３８", "张秀兰", " ok ", "ok\n"]
        )
    if item.type == "weekly_hours":
        week = {}
        for day in rnd.sample(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], rnd.randint(0, 7)):
            spans = []
            for _ in range(rnd.randint(0, 3)):
                a, b = sorted(rnd.sample(range(0, 24 * 60 + 1, rnd.choice([1, 15, 30])), 2))
                spans.append([f"{a // 60:02d}:{a % 60:02d}", f"{b // 60:02d}:{b % 60:02d}"])
            if rnd.random() < 0.05:
                spans.append(rnd.choice([["25:00", "26:00"], ["12:00", "08:00"], ["8:00", "9:00"]]))
            week[day] = spans
        return week
    return None


def test_js_matches_python_on_random_inspections(tmp_path):
    """Seeded fuzzing of the parity: random answers and photos against every case template."""
    import random

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    rnd = random.Random(20240915)
    templates = {c["name"]: c for c in CASES}
    cases = []
    for n in range(400):
        base = templates[rnd.choice(sorted(templates))]
        tpl = template_for(base)
        answers = {}
        for item in tpl.items:
            if item.type != "photo" and rnd.random() < 0.93:
                answers[item.key] = random_value(item, rnd)
        photos = [
            {"sha256": f"sha{rnd.randint(0, 5)}", "item": rnd.choice(tpl.items).key}
            for _ in range(rnd.randint(0, 25))
        ]
        cases.append(
            {
                "name": f"random {n}",
                "template": base["template"],
                **({"params": base["params"]} if base.get("params") else {}),
                "answers": answers,
                "photos": photos,
                "expect": {},
            }
        )
    path = tmp_path / "random_cases.json"
    path.write_text(json.dumps({"cases": cases}, ensure_ascii=False), encoding="utf-8")
    done = subprocess.run(
        [node, str(DRIVER), str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    js = json.loads(done.stdout)["results"]
    ratings = set()
    for case in cases:
        py = evaluate(template_for(case), case["answers"], case["photos"])
        assert canonical(js[case["name"]]) == canonical(py), case["name"]
        ratings.add(py["rating"]["code"])
    assert ratings == {"good", "basic", "fail", "incomplete"}
