"""Follow-ups (限期整改) through to the end, in a county that is not Qian: opened by a failed
item with the county's own number of days and the point's manager, overdue once the due date
passes, closed by a re-inspection in the next cycle, or on photo evidence by a supervisor
(audited); the summaries' counts follow every step."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from server.db import session_scope
from server.errors import AppError
from server.models import (
    Area,
    AreaFollowUpSummary,
    AuditLog,
    Blob,
    Cycle,
    FollowUp,
    Inspection,
    ServicePoint,
    User,
)
from server.services import followups
from server.services.changes import stamp
from server.services.scope import scope_of
from server.services.summaries import rebuild
from server.services.templates import set_params
from tests.api.helpers import login, op, record, sync
from tests.demo_cycles import demo_cycle
from tests.logins import csrf_of, web_login
from tests.server.counties import LIQUAN, add_liquan
from tests.server.test_i18n import assert_one_language

PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00 the new shelf"


@pytest.fixture
def liquan(engine, demo):
    made = add_liquan(engine)
    with session_scope(engine, write=True) as s:
        county = s.exec(select(Area).where(Area.code == LIQUAN)).one()
        version, _ = set_params(s, "village_point", county, {"followup_days": 14})
        point = s.exec(select(ServicePoint).where(ServicePoint.code == made["points"][1])).one()
        point.manager_name, point.manager_phone = "王秀兰", "13800000000"
        stamp(s, point)
        nxt = Cycle(
            name="2027年度考核（礼泉）",
            year=2027,
            start_date=date(2027, 1, 1),
            end_date=date(2027, 12, 31),
            county_id=county.id,
        )
        stamp(s, nxt)
        s.flush()
        good = next(
            i
            for i in s.exec(
                select(Inspection)
                .join(ServicePoint)
                .where(ServicePoint.kind == "village", Inspection.rating == "good")
                .order_by(Inspection.submitted_at)
            )
            if i.result["rating"]["passed"] == i.result["rating"]["scored"]
        )
        made.update(
            answers=good.answers,
            photos=good.photos,
            version=version.version,
            content=version.content,
            point=point.code,
            township_id=point.township_id,
            next_cycle=nxt.id,
        )
    return made


def _visit(client, h, lq, *, cycle, at, **answers):
    rec = record(
        lq["point"],
        lq["version"],
        template_key="village_point",
        cycle_id=cycle,
        status="submitted",
        answers={**lq["answers"], **answers},
        photos=[
            {
                "sha256": p["sha256"],
                "item": p["item"],
                "size": 1000,
                "mime": "image/jpeg",
                "taken_at": at.isoformat(),
            }
            for p in lq["photos"]
        ],
        submitted_at=at.isoformat(),
    )
    out = sync(client, h, op(rec))
    assert out["acks"][0]["status"] == "applied", str(out["acks"])
    return rec["id"]


def _counts(engine, lq, cycle, on):
    with session_scope(engine) as s:
        return followups.counts(s, s.get(Area, lq["township_id"]), cycle, on)


def _follows(engine, code):
    with session_scope(engine) as s:
        q = select(FollowUp).join(ServicePoint).where(ServicePoint.code == code)
        return {f.item_key: f for f in s.exec(q)}


def test_open_overdue_then_closed_by_a_re_inspection_in_the_next_cycle(client, engine, liquan):
    lq = liquan
    h = login(client, "lq_inspector")
    first = _visit(
        client,
        h,
        lq,
        cycle=lq["cycle_id"],
        at=datetime(2026, 11, 26, 2, tzinfo=UTC),
        book_volumes=900,
    )
    opened = _follows(engine, lq["point"])
    assert set(opened) == {"book_volumes"}, "only the failed item opens one"
    f = opened["book_volumes"]
    assert (f.status, f.opened_by, f.responsible) == ("open", first, "王秀兰")
    assert f.due_date == date(2026, 12, 10), "礼泉县 gives 14 days, not the default 30"
    assert _counts(engine, lq, lq["cycle_id"], date(2026, 12, 10)) == {"pending": 1, "overdue": 0}
    assert _counts(engine, lq, lq["cycle_id"], date(2026, 12, 11)) == {"pending": 1, "overdue": 1}
    with session_scope(engine) as s:
        town = s.get(Area, lq["township_id"])
        rows = followups.listed(s, [town.id], states=["overdue"], on=date(2026, 12, 11))
        assert [(r.item_key, r.state, r.item_label.zh) for r in rows] == [
            ("book_volumes", "overdue", rows[0].item_label.zh)
        ] and rows[0].item_label.zh != "book_volumes"
        assert followups.listed(s, [town.id], states=["overdue"], on=date(2026, 12, 1)) == []
    # the phone pulls it with its responsible person
    pulled = sync(client, h)["changes"]["followups"]
    assert [(p["item_key"], p["responsible"], p["status"]) for p in pulled] == [
        ("book_volumes", "王秀兰", "open")
    ]
    # the re-inspection, in the county's next cycle, passes the item
    second = _visit(client, h, lq, cycle=lq["next_cycle"], at=datetime(2027, 1, 5, 2, tzinfo=UTC))
    f = _follows(engine, lq["point"])["book_volumes"]
    assert (f.status, f.closed_by) == ("closed", second)
    assert _counts(engine, lq, lq["cycle_id"], date(2027, 1, 6)) == {"pending": 0, "overdue": 0}
    with session_scope(engine) as s:  # the county's row too, and 乾县's stays apart
        county = s.exec(select(Area).where(Area.code == LIQUAN)).one()
        assert followups.counts(s, county, lq["cycle_id"]) == {"pending": 0, "overdue": 0}


def test_fixed_then_failed_again_reopens_and_evidence_closes_with_an_audit_row(
    client, engine, liquan, settings
):
    lq = liquan
    h = login(client, "lq_inspector")
    _visit(
        client,
        h,
        lq,
        cycle=lq["cycle_id"],
        at=datetime(2026, 11, 26, 2, tzinfo=UTC),
        book_volumes=900,
        periodicals=1,
    )
    opened = _follows(engine, lq["point"])
    assert set(opened) == {"book_volumes", "periodicals"}
    books, papers = opened["book_volumes"].id, opened["periodicals"].id
    with session_scope(engine, write=True) as s:
        inspector = scope_of(s, s.exec(select(User).where(User.username == "lq_inspector")).one())
        with pytest.raises(AppError):
            followups.mark_fixed(s, inspector, books)
        qian = scope_of(s, s.exec(select(User).where(User.username == "supervisor")).one())
        with pytest.raises(AppError):  # 乾县's supervisor does not see 礼泉县's
            followups.mark_fixed(s, qian, books)
        sup = scope_of(s, s.exec(select(User).where(User.username == "lq_supervisor")).one())
        followups.mark_fixed(s, sup, books, "已补充图书")
        followups.mark_fixed(s, sup, papers)
    # a fixed follow-up is not overdue, even past its date
    assert _counts(engine, lq, lq["cycle_id"], date(2027, 1, 1)) == {"pending": 2, "overdue": 0}
    # the re-inspection still finds too few books: back to open, same due date
    _visit(
        client,
        h,
        lq,
        cycle=lq["cycle_id"],
        at=datetime(2026, 12, 20, 2, tzinfo=UTC),
        book_volumes=900,
        periodicals=1,
    )
    now = _follows(engine, lq["point"])
    assert now["book_volumes"].status == "open" and now["book_volumes"].due_date == date(
        2026, 12, 10
    )
    assert now["periodicals"].status == "open"
    with session_scope(engine, write=True) as s:
        sup = scope_of(s, s.exec(select(User).where(User.username == "lq_supervisor")).one())
        with pytest.raises(AppError):  # no photo held: refused, nothing changed
            followups.close_on_evidence(s, sup, books, photos=["a" * 64], note="照片")
    assert _follows(engine, lq["point"])["book_volumes"].status == "open"
    with session_scope(engine, write=True) as s:
        s.add(Blob(sha256="b" * 64, size=3, received=3, complete=True))
        s.flush()
        sup = scope_of(s, s.exec(select(User).where(User.username == "lq_supervisor")).one())
        with pytest.raises(AppError):  # a note must say what the photo shows
            followups.close_on_evidence(s, sup, books, photos=["b" * 64], note=" ")
        followups.close_on_evidence(s, sup, books, photos=["b" * 64], note="新书已上架")
    f = _follows(engine, lq["point"])["book_volumes"]
    assert (f.status, f.closed_by, f.evidence, f.note) == ("closed", None, ["b" * 64], "新书已上架")
    with session_scope(engine) as s:
        actions = [
            (a.action, a.target_id, a.detail.get("note"))
            for a in s.exec(select(AuditLog).where(AuditLog.target_type == "follow_up"))
        ]
    assert ("followup.close_evidence", str(books), "新书已上架") in actions
    assert ("followup.fixed", str(books), "已补充图书") in actions
    assert _counts(engine, lq, lq["cycle_id"], date(2027, 1, 1)) == {"pending": 1, "overdue": 1}


def test_summary_counts_equal_a_rebuild(client, engine, liquan):
    lq = liquan
    h = login(client, "lq_inspector")
    _visit(
        client,
        h,
        lq,
        cycle=lq["cycle_id"],
        at=datetime(2026, 11, 26, 2, tzinfo=UTC),
        book_volumes=900,
    )
    _visit(client, h, lq, cycle=lq["next_cycle"], at=datetime(2027, 1, 5, 2, tzinfo=UTC))

    def rows():
        with session_scope(engine) as s:
            return sorted(
                (r.cycle_id, r.area_id, r.due_date, r.status, r.count)
                for r in s.exec(select(AreaFollowUpSummary))
                if r.count
            )

    before = rows()
    with session_scope(engine, write=True) as s:
        rebuild(s)
    assert rows() == before
    with session_scope(engine) as s:  # and the demo's own follow-ups are counted
        qian = s.exec(select(Area).where(Area.code == "610424")).one()
        for role in ("previous", "current"):  # last year's all closed, this year's waiting
            cycle = demo_cycle(s, role)
            pending = followups.counts(s, qian, cycle.id)["pending"]
            listed = followups.listed(s, sorted(_subtree(s, qian)), cycle_ids=[cycle.id])
            assert pending == len([r for r in listed if r.status != "closed"])
            assert (pending > 0) is (role == "current") and listed


def _subtree(s, area):
    from server.services.scope import subtree_of

    return subtree_of(s, area.id)


# -- the web pages: login, scope, the authorization matrix, and closing on a photo


def _web(client, username):
    client.cookies.clear()
    assert web_login(client, username).status_code == 303


def _opened(client, engine, lq):
    h = login(client, "lq_inspector")
    _visit(
        client,
        h,
        lq,
        cycle=lq["cycle_id"],
        at=datetime(2026, 11, 26, 2, tzinfo=UTC),
        book_volumes=900,
    )
    return _follows(engine, lq["point"])["book_volumes"].id


@pytest.mark.parametrize(
    ("username", "list_sees", "detail", "may_close"),
    [
        (None, False, 303, False),  # anonymous: the login page
        ("lq_supervisor", True, 200, True),  # in scope
        ("city_supervisor", True, 200, True),  # the city above both counties
        ("lq_inspector", False, 303, False),  # inspectors have no office login
        ("supervisor", False, 404, False),  # 乾县's: 礼泉县's do not exist for them
        ("admin", False, 404, False),  # 乾县's admin too
    ],
)
def test_authorization_matrix(client, engine, liquan, username, list_sees, detail, may_close):
    fid = _opened(client, engine, liquan)
    client.cookies.clear()
    if username == "lq_inspector":
        assert web_login(client, username).status_code == 403
        username = None
    elif username:
        _web(client, username)
    r = client.get(f"/followups?area={LIQUAN}", follow_redirects=False)
    if username is None:
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    else:
        assert r.status_code == 200
        assert (f"/followups/{fid}" in r.text) is list_sees
    r = client.get(f"/followups/{fid}", follow_redirects=False)
    assert r.status_code == detail
    if username is None:
        return
    csrf = csrf_of(client.get("/followups").text)
    r = client.post(
        f"/followups/{fid}/close",
        data={"csrf": csrf, "note": "新书已上架"},
        files={"photo": ("fix.jpg", PHOTO, "image/jpeg")},
        follow_redirects=False,
    )
    assert (r.status_code == 303) is may_close, r.text[:300]
    status = _follows(engine, liquan["point"])["book_volumes"].status
    assert status == ("closed" if may_close else "open")


def test_list_overdue_first_detail_and_close_on_a_photo(client, engine, liquan, settings):
    fid = _opened(client, engine, liquan)
    with session_scope(engine, write=True) as s:  # a second, already overdue follow-up
        f = s.get(FollowUp, fid)
        late = FollowUp(
            point_id=f.point_id,
            cycle_id=f.cycle_id,
            item_key="periodicals",
            reason_code="below_min",
            opened_by=f.opened_by,
            opened_at=f.opened_at,
            due_date=date(2020, 1, 1),
            evidence=[],
        )
        stamp(s, late)
        s.flush()
        late_id = late.id
    _web(client, "lq_supervisor")
    page = client.get(f"/followups?area={LIQUAN}").text
    assert page.index(f"/followups/{late_id}") < page.index(f"/followups/{fid}"), "overdue first"
    assert "已逾期" in page and "王秀兰" in page and "低于标准" in page
    only = client.get(f"/followups?area={LIQUAN}&status=overdue").text
    assert f"/followups/{late_id}" in only and f'/followups/{fid}"' not in only
    by_point = client.get(f"/followups?area={LIQUAN}&point={liquan['points'][0]}").text
    assert f'/followups/{fid}"' not in by_point
    assert client.get("/followups?status=nonsense").status_code == 400
    english = client.get(f"/followups?area={LIQUAN}&lang=en").text
    assert "Overdue" in english and "已逾期" not in english
    assert_one_language(english, "en")
    assert_one_language(client.get(f"/followups/{fid}?lang=zh-CN").text, "zh-CN")
    detail = client.get(f"/followups/{fid}")
    assert detail.status_code == 200 and "凭照片销号" in detail.text
    csrf = csrf_of(detail.text)
    # not a photo: refused, named, nothing stored
    r = client.post(
        f"/followups/{fid}/close",
        data={"csrf": csrf, "note": "看图"},
        files={"photo": ("fix.jpg", b"<svg/>", "image/jpeg")},
    )
    assert r.status_code == 400 and "不是照片" in r.text
    r = client.post(f"/followups/{fid}/fixed", data={"csrf": csrf, "note": "已补书"})
    assert r.status_code == 200 and "已标记为已整改" in r.text
    r = client.post(
        f"/followups/{fid}/close",
        data={"csrf": csrf, "note": "新书已上架"},
        files={"photo": ("fix.jpg", PHOTO, "image/jpeg")},
    )
    assert r.status_code == 200 and "已凭照片销号" in r.text and "/review/photos/" in r.text
    sha = _follows(engine, liquan["point"])["book_volumes"].evidence[0]
    assert client.get(f"/review/photos/{sha}").content == PHOTO
    with session_scope(engine) as s:
        row = s.exec(select(AuditLog).where(AuditLog.action == "followup.close_evidence")).one()
        assert row.detail["photos"] == [sha] and row.user_id is not None
    audit = client.get("/admin/audit").text
    assert "凭照片销号" in audit
