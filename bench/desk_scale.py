"""The director's desk at province scale: server time of the overview (/), the map data
(/map/data.geojson) and a township page (/area/{code}), p50 and p95, on SQLite and
PostgreSQL.

The dataset (issue 9, part 5): one province, 10 cities, 100 counties, 1,500 townships,
20,000 service points, 200,000 submitted inspections in the counties' current cycles (about
10 per point, answered as the demo answers, each evaluated by the real rule engine), the
follow-ups the latest ones leave open, and the summaries rebuilt by the same code the sync
path uses (`summaries.rebuild`). Rows go in with executemany, not over HTTP.

Timing: the real app in process (Starlette's TestClient, no network), logged in through the
login form; each URL is asked for `--warm` times untimed, then `--runs` times, and the time
around each request is the server's time plus the in-process client's small overhead. A
route answering anything but 200 is reported as such (a page not landed yet). Beside the
wall time, the process's CPU time per request (`time.process_time`: not inflated by other
work on a loaded machine; on PostgreSQL the database server's CPU is not in it). The map
data and the province's overview are also measured as built: "uncached" (the cache emptied
before each request, as after a point's or an area's change) and, for the map, "new
ratings" (as after an inspection arrives: the encoded points are kept, the ratings read
again).

    .venv/bin/python bench/desk_scale.py                 # both databases
    .venv/bin/python bench/desk_scale.py --db sqlite --points 2000 --inspections 20000
PostgreSQL gets its own database (`xj_bench_desk`, dropped first): the tests' `test` is
never touched.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select, text  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from server.app import create_app  # noqa: E402
from server.db import make_engine, session_scope  # noqa: E402
from server.domain.rules import evaluate  # noqa: E402
from server.domain.templates import parse_template  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.models import (  # noqa: E402
    Area,
    ChecklistTemplate,
    Cycle,
    FollowUp,
    Inspection,
    ServicePoint,
    TemplateVersion,
    User,
)
from server.services import desk_cache  # noqa: E402
from server.services.auth import hash_password  # noqa: E402
from server.services.demo_answers import answers_for  # noqa: E402
from server.services.summaries import rebuild  # noqa: E402
from server.settings import Settings  # noqa: E402

PASSWORD = "bench-pass-2026"
PG_ADMIN = os.environ.get("XUNJIAN_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_DB = "xj_bench_desk"
VARIANTS = 64  # distinct answer sets per checklist; enough spread of ratings and failures


def _login(client: TestClient, username: str) -> None:
    import re

    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = client.post(
        "/login",
        data={"csrf": csrf, "username": username, "password": PASSWORD, "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:300]


def _variants(session, rng: random.Random) -> dict[str, list[tuple[int, dict, dict, str]]]:
    """Per applies_to: (version id, answers, photos, result, rating), evaluated by the rule
    engine (photo hashes are made up: the pages list them, the bench never fetches one)."""
    out: dict[str, list] = {}
    rows = session.execute(
        select(TemplateVersion, ChecklistTemplate).join(
            ChecklistTemplate, ChecklistTemplate.id == TemplateVersion.template_id
        )
    ).all()
    for version, tpl in rows:
        template = parse_template(version.content)
        found = []
        for _ in range(VARIANTS):
            shots = {
                k: [f"{rng.getrandbits(256):064x}" for _ in range(3)]
                for k in ("sign", "rules", "shelves", "register", "activity")
            }
            answers, photos = answers_for(version.content, rng.random(), rng, shots)
            result = evaluate(template, answers, photos)
            found.append((version.id, answers, photos, result, result["rating"]["code"]))
        out[tpl.applies_to] = found
    return out


def build(url: str, n_points: int, n_townships: int, n_counties: int, n_insp: int) -> None:
    rng = random.Random(9)
    engine = make_engine(url)
    t0 = time.perf_counter()
    with session_scope(engine, write=True) as s:
        conn = s.connection()
        pw = hash_password(PASSWORD)
        areas = Area.__table__
        conn.execute(areas.insert(), [{"code": "610000", "name": "陕西省", "level": "province"}])
        prov = conn.execute(select(areas.c.id).where(areas.c.code == "610000")).scalar_one()
        n_cities = max(1, n_counties // 10)
        conn.execute(
            areas.insert(),
            [
                {
                    "code": f"61{c + 1:02d}00",
                    "name": f"市{c + 1}",
                    "level": "city",
                    "parent_id": prov,
                }
                for c in range(n_cities)
            ],
        )
        cities = dict(
            conn.execute(select(areas.c.code, areas.c.id).where(areas.c.level == "city")).all()
        )
        counties = []
        for k in range(n_counties):
            city_code = f"61{k % n_cities + 1:02d}00"
            counties.append(
                {
                    "code": f"{city_code[:4]}{k // n_cities + 1:02d}",
                    "name": f"县{k + 1}",
                    "level": "county",
                    "parent_id": cities[city_code],
                }
            )
        conn.execute(areas.insert(), counties)
        county_ids = dict(
            conn.execute(select(areas.c.code, areas.c.id).where(areas.c.level == "county")).all()
        )
        per_county = n_townships // n_counties
        towns = [
            {
                "code": f"{code}{t + 100:03d}",
                "name": f"{code}镇{t + 1}",
                "level": "township",
                "parent_id": cid,
                "lat": 34 + rng.random(),
                "lon": 108 + rng.random(),
            }
            for code, cid in sorted(county_ids.items())
            for t in range(per_county)
        ]
        conn.execute(areas.insert(), towns)
        town_rows = conn.execute(
            select(areas.c.id, areas.c.code, areas.c.parent_id, areas.c.lat, areas.c.lon).where(
                areas.c.level == "township"
            )
        ).all()
        points = []
        for i in range(n_points):
            tid, tcode, _cid, lat, lon = town_rows[i % len(town_rows)]
            n = i // len(town_rows)
            points.append(
                {
                    "code": f"{tcode}{n:03d}",
                    "name": f"{tcode}村{n}" if n else f"{tcode}分馆",
                    "kind": "village" if n else "branch",
                    "township_id": tid,
                    "lat": lat + rng.uniform(-0.02, 0.02),
                    "lon": lon + rng.uniform(-0.02, 0.02),
                    "active": True,
                    "created_at": datetime.now(UTC),
                    "updated_at": datetime.now(UTC),
                }
            )
        conn.execute(ServicePoint.__table__.insert(), points)
        cycles = [
            {
                "name": f"2026年度考核{code}",
                "year": 2026,
                "start_date": date(2026, 1, 1),
                "end_date": date(2026, 12, 31),
                "assessment_date": date(2026, 12, 20),
                "county_id": cid,
                "current": True,
            }
            for code, cid in county_ids.items()
        ]
        conn.execute(Cycle.__table__.insert(), cycles)
        cycle_of = dict(
            conn.execute(select(Cycle.__table__.c.county_id, Cycle.__table__.c.id)).all()
        )
        users = [
            {"username": "prov_admin", "display_name": "省管理员", "role": "admin", "area_id": prov}
        ]
        for code, cid in county_ids.items():
            users.append(
                {
                    "username": f"sup_{code}",
                    "display_name": f"主管{code}",
                    "role": "supervisor",
                    "area_id": cid,
                }
            )
            for j in range(3):
                users.append(
                    {
                        "username": f"insp_{code}_{j}",
                        "display_name": f"巡检{code}{j}",
                        "role": "inspector",
                        "area_id": cid,
                    }
                )
        for u in users:
            u.update(password_hash=pw, active=True, lang=None, created_at=datetime.now(UTC))
        conn.execute(User.__table__.insert(), users)
        inspectors: dict[int, list[int]] = {}
        ut = User.__table__
        for uid, area_id in conn.execute(
            select(ut.c.id, ut.c.area_id).where(ut.c.role == "inspector")
        ):
            inspectors.setdefault(area_id, []).append(uid)
        variants = _variants(s, rng)
        pt = ServicePoint.__table__
        point_rows = conn.execute(
            select(pt.c.id, pt.c.kind, pt.c.lat, pt.c.lon, areas.c.parent_id).join(
                areas, areas.c.id == pt.c.township_id
            )
        ).all()
        print(f"  areas, points, users: {time.perf_counter() - t0:.1f} s", flush=True)

        t1 = time.perf_counter()
        batch: list[dict] = []
        latest: dict[int, tuple[datetime, str, dict, int]] = {}
        base = datetime(2026, 3, 1, tzinfo=UTC)
        it = Inspection.__table__
        for k in range(n_insp):
            pid, kind, lat, lon, county = point_rows[k % len(point_rows)]
            vid, answers, photos, result, rating = rng.choice(
                variants["branch" if kind == "branch" else "village"]
            )
            at = base + timedelta(minutes=rng.randrange(0, 60 * 24 * 250))
            iid = str(uuid.UUID(int=rng.getrandbits(128)))
            batch.append(
                {
                    "id": iid,
                    "point_id": pid,
                    "template_version_id": vid,
                    "cycle_id": cycle_of[county],
                    "inspector_id": rng.choice(inspectors[county]),
                    "device_id": "bench",
                    "status": "submitted",
                    "answers": answers,
                    "photos": photos,
                    "gps": {"lat": lat + rng.uniform(-0.001, 0.001), "lon": lon, "accuracy": 12},
                    "notes": "",
                    "started_at": at - timedelta(minutes=40),
                    "submitted_at": at,
                    "created_at": at,
                    "updated_at": at,
                    "rev": 1,
                    "field_hlc": {},
                    "result": result,
                    "rating": rating,
                    "evidence_complete": True,
                    "seq": k + 1,
                }
            )
            if pid not in latest or (at, iid) > latest[pid][:2]:
                latest[pid] = (at, iid, result, cycle_of[county])
            if len(batch) == 5000:
                conn.execute(it.insert(), batch)
                batch = []
        if batch:
            conn.execute(it.insert(), batch)
        print(f"  {n_insp} inspections: {time.perf_counter() - t1:.1f} s", flush=True)

        t2 = time.perf_counter()
        follow = []
        for pid, (at, iid, result, cycle) in latest.items():
            for key, r in result["items"].items():
                if r["status"] in ("fail", "missing"):
                    follow.append(
                        {
                            "point_id": pid,
                            "cycle_id": cycle,
                            "item_key": key,
                            "reason_code": r.get("code", ""),
                            "opened_by": iid,
                            "opened_at": at,
                            "due_date": (at + timedelta(days=30)).date(),
                            "status": "open",
                        }
                    )
        for start in range(0, len(follow), 5000):
            conn.execute(FollowUp.__table__.insert(), follow[start : start + 5000])
        print(f"  {len(follow)} open follow-ups: {time.perf_counter() - t2:.1f} s", flush=True)
        t3 = time.perf_counter()
        rebuild(s)
        print(f"  summaries rebuilt: {time.perf_counter() - t3:.1f} s", flush=True)
    if url.startswith("postgresql"):
        with engine.connect() as c:
            c.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    else:
        with engine.connect() as c:
            c.exec_driver_sql("ANALYZE")
    engine.dispose()


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def measure(
    url: str, data_dir: Path, runs: int, warm: int
) -> list[tuple[str, str, int, float, float]]:
    engine = make_engine(url)
    with session_scope(engine) as s:
        county = (
            s.execute(select(Area.code).where(Area.level == "county").order_by(Area.code))
            .scalars()
            .first()
        )
        towns = (
            s.execute(select(Area.code).where(Area.level == "township").order_by(Area.code))
            .scalars()
            .all()
        )
        town = towns[len(towns) // 2]
        pt, it = ServicePoint.__table__, Inspection.__table__
        point_id, point = s.execute(
            select(pt.c.id, pt.c.code).where(pt.c.code.like(town + "%")).order_by(pt.c.code)
        ).first()
        insp_id, photos = s.execute(
            select(it.c.id, it.c.photos)
            .where(it.c.point_id == point_id)
            .order_by(it.c.submitted_at.desc())
        ).first()
    engine.dispose()
    assert county is not None
    settings = Settings.from_env(
        env={}, database_url=url, data_dir=str(data_dir), secret_key="bench-secret-key-desk-scale"
    )
    cases = [
        (f"sup_{county}", "overview (county)", f"/?area={county}"),
        ("prov_admin", "overview (province)", "/"),
        ("prov_admin", "overview (province) uncached", "/"),
        (f"sup_{county}", "map data (county)", f"/map/data.geojson?area={county}"),
        ("prov_admin", "map data (province)", "/map/data.geojson"),
        (f"sup_{county}", "map data (county) uncached", f"/map/data.geojson?area={county}"),
        ("prov_admin", "map data (province) uncached", "/map/data.geojson"),
        ("prov_admin", "map data (prov.) new ratings", "/map/data.geojson"),
        ("prov_admin", "township page", f"/area/{town}"),
        (f"sup_{town[:6]}", "township page (county sup.)", f"/area/{town}"),
        (f"sup_{county}", "county page", f"/area/{county}"),
        ("prov_admin", "point page", f"/point/{point}"),
        ("prov_admin", "inspection page", f"/inspection/{insp_id}"),
    ]
    out = []
    app = create_app(settings)
    with TestClient(app) as client:
        who = None
        for user, name, path in cases:
            if user != who:
                client.cookies.clear()
                _login(client, user)
                who = user
            status = client.get(path).status_code
            if status != 200:
                out.append((name, path, status, float("nan"), float("nan")))
                print(f"  {name:28} {path:40} HTTP {status}", flush=True)
                continue
            for _ in range(warm):
                client.get(path)
            times: list[float] = []
            cpu: list[float] = []
            started = time.perf_counter()
            # at most ~20 s per page (a slow page still gets 10 runs)
            while len(times) < runs and (len(times) < 10 or time.perf_counter() - started < 20):
                if name.endswith("uncached"):  # as after a point's change: built again
                    desk_cache.clear()
                elif name.endswith("new ratings"):  # as after an inspection: points kept
                    desk_cache.clear("map")
                t, c = time.perf_counter(), time.process_time()
                r = client.get(path)
                times.append((time.perf_counter() - t) * 1000)
                cpu.append((time.process_time() - c) * 1000)
                assert r.status_code == 200
            p50, p95 = statistics.median(times), _pct(times, 95)
            out.append((name, path, 200, p50, p95))
            print(
                f"  {name:30} {path[:38]:38} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms"
                f"  cpu p50 {statistics.median(cpu):6.1f} p95 {_pct(cpu, 95):6.1f}"
                f"  (n={len(times)})",
                flush=True,
            )
    if photos:
        out.append(_photo_scope(url, photos[-1]["sha256"], f"sup_{county}", runs))
    return out


def _photo_scope(url: str, sha: str, username: str, runs: int):
    """The scope check behind /photo/{sha}: is the photo listed by an inspection in the
    viewer's subtree? (The bench's photo hashes are made up; one is marked complete.)"""
    from server.models import Blob
    from server.services.photo_view import photo_in_scope
    from server.services.scope import scope_of

    engine = make_engine(url)
    with session_scope(engine, write=True) as s:
        if s.get(Blob, sha) is None:
            s.add(Blob(sha256=sha, size=1, received=1, complete=True))
    with session_scope(engine) as s:
        user = s.execute(select(User).where(User.username == username)).scalar_one()
        scope = scope_of(s, user)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            assert photo_in_scope(s, scope, sha)
            times.append((time.perf_counter() - t) * 1000)
    engine.dispose()
    p50, p95 = statistics.median(times), _pct(times, 95)
    print(f"  {'photo scope check':22} {'(service call)':40} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms")
    return ("photo scope check", "(service)", 200, p50, p95)


def _pg_url() -> str:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{PG_DB}"'))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + PG_DB


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--points", type=int, default=20_000)
    ap.add_argument("--townships", type=int, default=1_500)
    ap.add_argument("--counties", type=int, default=100)
    ap.add_argument("--inspections", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=60)
    ap.add_argument("--warm", type=int, default=5)
    ap.add_argument("--keep", help="folder for the SQLite file (kept for another run)")
    ap.add_argument("--reuse", action="store_true", help="measure the existing data again")
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}")
    tmp = Path(args.keep or tempfile.mkdtemp(prefix="xj-desk-"))
    tmp.mkdir(parents=True, exist_ok=True)
    for kind in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        print(f"{kind}:", flush=True)
        if kind == "sqlite":
            url = f"sqlite:///{tmp / 'desk.db'}"
            if not args.reuse:
                (tmp / "desk.db").unlink(missing_ok=True)
        else:
            url = PG_ADMIN.rsplit("/", 1)[0] + "/" + PG_DB if args.reuse else _pg_url()
        upgrade(url)  # with --reuse: brings kept data to the head (a new index, say)
        if not args.reuse:
            build(url, args.points, args.townships, args.counties, args.inspections)
        measure(url, tmp / "data", args.runs, args.warm)
        print(f"  load average: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
