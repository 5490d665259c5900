"""The shared rule cases, evaluated by pwa/js/rules.js as the server serves it, inside the
phone-emulating Chromium, must equal server.domain.rules.evaluate item for item.

The harness (tests/domain/run_rules_cases.mjs) and the data files are handed to the page
through a route, so the page runs the same loader Node does.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.domain.rules import evaluate
from server.domain.templates import apply_params, load_builtin_templates, parse_template

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "cases" / "rule_cases.json"
HARNESS = ROOT / "tests" / "domain" / "run_rules_cases.mjs"
I18N = ROOT / "pwa" / "i18n"


def python_results(cases: list[dict], builtin: dict) -> dict:
    out = {}
    for c in cases:
        t = builtin[c["template"]] if isinstance(c["template"], str) else c["template"]
        if c.get("params"):
            t = apply_params(t, c["params"])
        out[c["name"]] = evaluate(parse_template(t), c.get("answers"), c.get("photos"))
    return json.loads(json.dumps(out))


def browser_results(phone, builtin: dict) -> dict:
    page = phone.page
    files = {
        "/app/__tests__/run_rules_cases.mjs": (HARNESS.read_bytes(), "text/javascript"),
        "/app/__tests__/rule_cases.json": (CASES.read_bytes(), "application/json"),
        "/app/__tests__/builtin.json": (json.dumps(builtin).encode(), "application/json"),
    }

    def serve(route, request):
        path = "/" + request.url.split("/", 3)[3].split("?")[0]
        body, ctype = files[path]
        route.fulfill(body=body, content_type=ctype)

    page.context.route("**/app/__tests__/**", serve)
    phone.goto("/app/")
    return page.evaluate(
        """async () => {
            const engine = await import('/app/js/rules.js');
            const harness = await import('/app/__tests__/run_rules_cases.mjs');
            const {cases} = await (await fetch('/app/__tests__/rule_cases.json')).json();
            const builtin = await (await fetch('/app/__tests__/builtin.json')).json();
            return harness.runCases(engine, cases, builtin);
        }"""
    )


def test_browser_evaluates_shared_cases_like_the_server(bare_phone):
    cases = json.loads(CASES.read_text())["cases"]
    builtin = load_builtin_templates()
    want = python_results(cases, builtin)
    got = browser_results(bare_phone, builtin)
    assert got["failures"] == {}
    assert set(got["results"]) == set(want)
    for name, py in want.items():
        js = got["results"][name]
        assert js["items"] == py["items"], name
        assert js["rating"] == py["rating"], name


def test_every_reason_code_has_words_in_both_catalogs():
    # Codes the engine itself gives, and those the shipped templates name; an inline test
    # template's own codes (e.g. "no_room") never reach a phone.
    cases = [c for c in json.loads(CASES.read_text())["cases"] if isinstance(c["template"], str)]
    codes = {
        res["code"]
        for r in python_results(cases, load_builtin_templates()).values()
        for res in r["items"].values()
    }
    for t in load_builtin_templates().values():
        stack = [i.get("rule") for s in t["sections"] for i in s["items"]]
        while stack:
            rule = stack.pop()
            if isinstance(rule, dict):
                codes.update([rule["code"]] if "code" in rule else [])
                stack.extend(rule.get("all", []) + rule.get("any", []) + [rule.get("not")])
    zh = json.loads((I18N / "zh-CN.json").read_text())
    en = json.loads((I18N / "en.json").read_text())
    assert sorted(zh) == sorted(en)
    missing = sorted(c for c in codes if f"rule.{c}" not in zh)
    assert missing == []
