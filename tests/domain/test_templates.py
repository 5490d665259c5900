import json
from pathlib import Path

import pytest

from server.domain.templates import (
    TemplateError,
    apply_params,
    content_hash,
    load_builtin_templates,
    parse_template,
)

CASES = Path(__file__).resolve().parent.parent / "cases"
ERROR_CASES = json.loads((CASES / "template_errors.json").read_text(encoding="utf-8"))["cases"]

# standards.md, "Default checklist for a village service point": key -> critical (★)
VILLAGE_TABLE = {
    "signboard": False, "reading_room": True, "area_m2": False, "seats": False,
    "book_volumes": True, "book_titles": False, "periodicals": False, "av_items": False,
    "new_titles_12m": False, "rules_posted": True, "hours_posted": True, "opening_hours": True,
    "open_on_visit": False, "free_service": True, "manager": True, "catalog_register": False,
    "loan_register": False, "activities_12m": False, "shelving": False, "safety_clean": False,
}  # fmt: skip
PHOTO_ROWS = {
    "reading_room", "rules_posted", "hours_posted", "catalog_register", "loan_register",
    "activities_12m", "shelving", "safety_clean",
}  # fmt: skip


@pytest.fixture(scope="module")
def builtin():
    return load_builtin_templates()


def test_builtin_templates_parse(builtin):
    assert set(builtin) == {"village_point", "township_branch"}
    assert parse_template(builtin["village_point"]).applies_to == "village"
    assert parse_template(builtin["township_branch"]).applies_to == "branch"


@pytest.mark.parametrize("key", ["village_point", "township_branch"])
def test_every_standards_row_is_in_the_checklist(builtin, key):
    items = {i.key: i for i in parse_template(builtin[key]).items}
    for row, critical in VILLAGE_TABLE.items():
        assert items[row].critical is critical, row
        assert items[row].scored and items[row].required, row
    for row in PHOTO_ROWS:
        assert items[row].evidence_photos >= 1, row
    assert items["signboard"].type == "photo"
    assert items["loans_12m"].scored is False
    assert items["manager_phone"].scored is False
    assert [o.key for o in items["rules_posted"].options] == ["duty", "management", "lending"]


def test_branch_adds_its_own_items_and_raises_figures(builtin):
    village = parse_template(builtin["village_point"])
    branch = parse_template(builtin["township_branch"])
    extra = {i.key for i in branch.items} - {i.key for i in village.items}
    assert {"branch_signboard", "county_books", "county_books_new_pct", "shared_card"} <= extra
    assert branch.params["county_books_min"] == 500
    assert branch.params["county_new_share_min"] == 50
    for name, value in village.params.items():
        assert branch.params[name] >= value, name


def test_labels_are_bilingual(builtin):
    for d in builtin.values():
        t = parse_template(d)
        assert t.name["zh"] and t.name["en"]
        for item in t.items:
            assert item.label.zh and item.label.en, item.key
            assert item.help is not None, item.key


# Words of a drafting note, not of a county's rule: sources go in docs/checklists.md.
DRAFTING = (
    "假设", "参照", "成都", "山东", "可按县调整", "assum", "chengdu", "shandong", "may change",
)  # fmt: skip


def _param_leaves(rule):
    for head in ("all", "any"):
        for child in rule.get(head, []):
            yield from _param_leaves(child)
    if "not" in rule:
        yield from _param_leaves(rule["not"])
    if "param" in rule:
        yield rule["param"]
    for amount in ("min_hours", "min_days", "min"):
        if isinstance(rule.get(amount), dict):
            yield rule[amount]["param"]


@pytest.mark.parametrize("key", ["village_point", "township_branch"])
def test_help_states_the_county_threshold_never_a_drafting_note(builtin, key):
    """Help texts name the param their rule compares against, so they say the county's own
    figure; a figure written out, or a note on sources, would drift from the rule."""
    t = builtin[key]
    texts = [t.get("description", {}).get(lang, "") for lang in ("zh", "en")]
    for section in t["sections"]:
        for item in section["items"]:
            help_ = item.get("help") or {}
            texts += [help_.get("zh", ""), help_.get("en", "")]
            for param in _param_leaves(item.get("rule") or {}):
                for lang in ("zh", "en"):
                    assert "{" + param + "}" in help_.get(lang, ""), (item["key"], lang, param)
    for text in texts:
        assert not any(w in text.lower() for w in DRAFTING), text


def test_help_text_says_the_county_figure(builtin):
    county = parse_template(apply_params(builtin["village_point"], {"book_volumes_min": 1200}))
    assert county.help_text("book_volumes", "zh") == "按台账清点，不少于 1200 册。"
    assert "at least 1200 volumes" in county.help_text("book_volumes", "en")
    default = parse_template(builtin["village_point"])
    assert default.help_text("book_volumes", "zh") == "按台账清点，不少于 1500 册。"
    hours = default.help_text("opening_hours", "zh")
    assert "5 天" in hours and "20 小时" in hours and "{" not in hours
    assert default.help_text("signboard", "zh") and default.help_text("loans_12m", "en")


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c["name"] for c in ERROR_CASES])
def test_bad_templates_are_refused(case):
    with pytest.raises(TemplateError) as info:
        parse_template(case["template"])
    for wanted in case["errors"]:
        assert any(wanted in e for e in info.value.errors), (wanted, info.value.errors)


def test_error_message_lists_every_problem():
    bad = next(c for c in ERROR_CASES if c["name"] == "every problem is listed at once")
    with pytest.raises(TemplateError) as info:
        parse_template(bad["template"])
    assert len(info.value.errors) >= 5
    assert "unknown type 'numbr'" in str(info.value)


def test_apply_params_returns_a_new_dict(builtin):
    d = builtin["village_point"]
    out = apply_params(d, {"book_volumes_min": 1000, "weekly_hours_min": 15})
    assert out["params"]["book_volumes_min"] == 1000
    assert d["params"]["book_volumes_min"] == 1500
    assert parse_template(out).params["weekly_hours_min"] == 15
    assert out["sections"] is not d["sections"]


def test_apply_params_refuses_unknown_names_and_bad_values(builtin):
    with pytest.raises(TemplateError) as info:
        apply_params(builtin["village_point"], {"book_volume_min": 1, "area_min": "20"})
    assert info.value.errors == [
        "params: unknown param 'book_volume_min'",
        "params: 'area_min' must be a number >= 0, got '20'",
    ]


def test_content_hash_is_stable_and_order_free():
    a = {"key": "x", "params": {"a": 1, "b": 2}, "name": {"zh": "村", "en": "v"}}
    b = {"name": {"en": "v", "zh": "村"}, "params": {"b": 2, "a": 1}, "key": "x"}
    assert content_hash(a) == content_hash(b)
    assert len(content_hash(a)) == 64
    assert content_hash(a) != content_hash({**a, "key": "y"})


def test_parsed_template_keeps_its_source(builtin):
    d = builtin["village_point"]
    t = parse_template(d)
    assert t.source == d and t.source is not d
    assert t.item("manager").rule["all"][1]["item"] == "manager_phone"
    with pytest.raises(KeyError):
        t.item("nope")
