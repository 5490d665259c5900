"""The `xunjian` command."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from server import i18n
from server.errors import AppError
from server.services import audit
from server.settings import Settings

_LANG = [i18n.DEFAULT_LANG]  # set once per run by main(): --lang, else XUNJIAN_LANG


def say(key: str, /, **params: Any) -> str:
    """A message of the catalog (server/i18n) in this run's language."""
    return i18n.text(_LANG[0], key, **params)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _LANG[0] = i18n.normalize_lang(args.lang) or _settings(args).lang
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args) or 0
    except CliError as exc:
        print(say("cli.error", message=exc.message), file=sys.stderr)
        return 1
    except AppError as exc:  # a service refused: its message, in this run's language
        print(say("cli.error", message=exc.message(_LANG[0])), file=sys.stderr)
        return 1


class CliError(Exception):
    """Ends the command with exit code 1 and a message from the catalog."""

    def __init__(self, key: str, /, **params: Any) -> None:
        self.message = say(key, **params)
        super().__init__(self.message)


def _settings(args) -> Settings:
    overrides = {}
    if getattr(args, "database_url", None):
        overrides["database_url"] = args.database_url
    return Settings.from_env(**overrides)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="xunjian", description="巡检 Xunjian: county library inspections"
    )
    p.add_argument("--database-url", help="overrides XUNJIAN_DATABASE_URL")
    p.add_argument("--lang", choices=i18n.LANGS, help="language of messages (XUNJIAN_LANG)")
    sub = p.add_subparsers()

    s = sub.add_parser("serve", help="run the web server")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=1)
    s.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database schema").add_subparsers()
    u = db.add_parser("upgrade", help="apply migrations up to the head")
    u.set_defaults(func=cmd_db_upgrade)

    d = sub.add_parser("demo", help="build the Qian County demo database (SQLite)")
    d.add_argument("--db", default="xunjian.db", help="SQLite file to create")
    d.add_argument("--force", action="store_true", help="replace an existing file")
    d.add_argument("--password", help="one password for every demo account (tests)")
    d.set_defaults(func=cmd_demo)

    user = sub.add_parser("user", help="accounts").add_subparsers()
    ua = user.add_parser("add", help="add a user")
    ua.add_argument("username")
    ua.add_argument("--name", required=True, help="display name, e.g. 王建国")
    ua.add_argument("--role", choices=["inspector", "supervisor", "admin"], default="inspector")
    ua.add_argument("--area", required=True, help="scope area code, e.g. 610424")
    ua.add_argument("--password", help="default: generated and printed")
    ua.add_argument("--lang", dest="user_lang", choices=i18n.LANGS, help="their page language")
    ua.set_defaults(func=cmd_user_add)
    up = user.add_parser("passwd", help="set a new password (default: generated and printed)")
    up.add_argument("username")
    up.add_argument("--password", help="default: generated and printed")
    up.add_argument(
        "--sign-out-devices",
        action="store_true",
        help="also sign out every phone of this user (the old password may be known)",
    )
    up.set_defaults(func=cmd_user_passwd)
    ul = user.add_parser("list", help="list users")
    ul.add_argument("--area", help="only users in this area and below it")
    ul.set_defaults(func=cmd_user_list)
    ud = user.add_parser("disable", help="disable a user: no login, every device signed out")
    ud.add_argument("username")
    ud.set_defaults(func=cmd_user_disable)
    ue = user.add_parser("enable", help="enable a disabled user again")
    ue.add_argument("username")
    ue.set_defaults(func=cmd_user_enable)

    imp = sub.add_parser("import", help="import registers").add_subparsers()
    ip = imp.add_parser("points", help="service points from CSV or XLSX")
    ip.add_argument("file", type=Path)
    ip.add_argument("--skip-bad", action="store_true", help="import the good rows anyway")
    ip.add_argument(
        "--allow-similar",
        action="store_true",
        help="accept near-duplicate names (e.g. 巨州 / 新巨洲)",
    )
    ip.set_defaults(func=cmd_import_points)

    tpl = sub.add_parser("template", help="checklist templates").add_subparsers()
    tl = tpl.add_parser("load", help="load a template file as a new version")
    tl.add_argument("file", type=Path)
    tl.add_argument("--county", help="county code for a county-only version")
    tl.add_argument("--note", default="")
    tl.set_defaults(func=cmd_template_load)
    tp = tpl.add_parser("params", help="set a county's thresholds (new version)")
    tp.add_argument("key", help="template key, e.g. village_point")
    tp.add_argument("assignments", nargs="+", help="name=value, e.g. book_volumes_min=2000")
    tp.add_argument("--county", required=True)
    tp.set_defaults(func=cmd_template_params)
    tls = tpl.add_parser("list", help="list templates and versions")
    tls.set_defaults(func=cmd_template_list)

    from server import cli_areas

    cli_areas.register(sub, _open)
    from server import cli_reports

    cli_reports.register(sub, _open)

    from server import cli_backup

    cli_backup.register(sub)

    cy = sub.add_parser("cycle", help="assessment cycles").add_subparsers()
    ca = cy.add_parser("add", help="add an assessment cycle")
    ca.add_argument("name", help="e.g. 2027年度公共文化服务目标责任考核")
    ca.add_argument("--county", required=True)
    ca.add_argument("--start", required=True, type=date.fromisoformat)
    ca.add_argument("--end", required=True, type=date.fromisoformat)
    ca.add_argument("--current", action="store_true")
    ca.set_defaults(func=cmd_cycle_add)
    return p


def _current_engine(args, behind: str = "cli.schema_behind"):
    """The settings and an engine on a database at the migration head (else CliError)."""
    from server.db import engine_from_settings
    from server.migrate import SchemaBehind, require_current

    settings = _settings(args)
    engine = engine_from_settings(settings)
    try:
        require_current(engine, settings.database_url)
    except SchemaBehind:
        engine.dispose()
        raise CliError(behind) from None
    return settings, engine


def _open(args, *, write: bool = True):
    from server.db import session_scope

    settings, engine = _current_engine(args)
    return settings, session_scope(engine, write=write)


def _county(session, code: str):
    """The county area with this code, or a CliError saying what the code is instead."""
    from server.services.areas import AreaError, county_area

    try:
        return county_area(session, code)
    except AreaError as exc:
        raise CliError("cli.problem", problem=exc.problem.message(_LANG[0])) from None


def cmd_serve(args) -> int:
    import uvicorn

    settings, engine = _current_engine(args, behind="cli.schema_behind_serve")
    engine.dispose()
    print(say("cli.serving", url=f"http://{args.host}:{args.port}/", db=settings.database_url))
    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level,
        proxy_headers=True,
    )
    return 0


def cmd_db_upgrade(args) -> int:
    from server.migrate import upgrade

    settings = _settings(args)
    added = upgrade(settings.database_url)
    print(say("cli.db_at_head"))
    for key, number in added:
        print(say("cli.shipped_installed", key=key, version=number))
    return 0


def cmd_demo(args) -> int:
    from server.db import make_engine, session_scope
    from server.migrate import schema_state, upgrade
    from server.services.demo import build_demo

    db = Path(args.db).resolve()
    accounts = Path(f"{db}.accounts.txt")
    url = f"sqlite:///{db}"
    if db.exists():
        if not args.force:
            # kept: the demo is run again to be served again, not to lose what was done in it;
            # after a `git pull` that brought a migration, `serve` would refuse the old schema
            print(say("cli.demo_kept", path=db, force="--force"))
            engine = make_engine(url)
            current, heads = schema_state(engine, url)
            engine.dispose()
            added = upgrade(url)
            if current != heads:
                print("  " + say("cli.demo_upgraded"))
            for key, number in added:
                print("  " + say("cli.shipped_installed", key=key, version=number))
            if accounts.exists():
                print("  " + say("cli.demo_accounts_at", path=accounts))
            else:
                print("  " + say("cli.demo_no_accounts"))
            return 0
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
    upgrade(url)
    settings = Settings.from_env(database_url=url)
    engine = make_engine(url)
    with session_scope(engine, write=True) as session:
        result = build_demo(session, settings.data_path, password=args.password)
    engine.dispose()
    print(say("cli.demo_ready", path=db))
    print("  " + say("cli.demo_summary", points=result.points, inspections=result.inspections))
    lines = [f"{username:<11} {pw}" for username, pw in result.passwords.items()]
    accounts.write_text("\n".join(lines) + "\n", encoding="utf-8")
    accounts.chmod(0o600)  # passwords: readable by the one who built the demo
    print("  " + say("cli.demo_accounts"))
    for line in lines:
        print(f"    {line}")
    print("  " + say("cli.demo_accounts_at", path=accounts))
    print("  " + say("cli.demo_run", command=f"XUNJIAN_DATABASE_URL={url} xunjian serve"))
    return 0


def cmd_user_add(args) -> int:
    from server.services import users

    _, scope = _open(args)
    with scope as session:
        user, pw = users.add_user(
            session,
            args.username,
            args.name,
            args.role,
            args.area,
            password=args.password,
            lang=args.user_lang,
        )
        area_name = users.area_name(session, user)
    role = say(f"role.{args.role}")
    print(say("cli.user_added", username=args.username, role=role, area=area_name, password=pw))
    return 0


def cmd_user_passwd(args) -> int:
    from server.services import users

    _, scope = _open(args)
    with scope as session:
        pw = users.set_password(
            session, args.username, args.password, sign_out_devices=args.sign_out_devices
        )
    print(say("cli.password_set", username=args.username, password=pw))
    if args.sign_out_devices:
        print(say("cli.devices_signed_out_note"))
    return 0


def cmd_user_list(args) -> int:
    from server.pages.format import local_time
    from server.services import users

    _, scope = _open(args, write=False)
    with scope as session:
        rows = users.listed(session, args.area)
    header = ["cli.users.username", "cli.users.name", "cli.users.role", "cli.users.area"]
    header += ["cli.users.status", "cli.users.devices", "cli.users.last_seen"]
    table = [[say(h) for h in header]]
    for r in rows:
        status = "cli.users.active" if r.user.active else "cli.users.disabled"
        table.append(
            [
                r.user.username,
                r.user.display_name,
                say(f"role.{r.user.role}"),
                f"{r.area.code} {r.area.name}",
                say(status),
                str(r.devices),
                local_time(r.last_seen) or "—",
            ]
        )
    _print_table(table)
    return 0


def _print_table(rows: list[list[str]]) -> None:
    """Columns padded to their widest cell; a CJK character takes two columns."""
    import unicodedata

    def width(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

    widths = [max(width(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell + " " * (w - width(cell)) for cell, w in zip(row, widths, strict=True)]
        print("  ".join(cells).rstrip())


def cmd_user_disable(args) -> int:
    from server.services import users

    _, scope = _open(args)
    with scope as session:
        _, revoked = users.set_active(session, args.username, False)
    print(say("cli.user_disabled", username=args.username, n=revoked))
    return 0


def cmd_user_enable(args) -> int:
    from server.services import users

    _, scope = _open(args)
    with scope as session:
        users.set_active(session, args.username, True)
    print(say("cli.user_enabled", username=args.username))
    return 0


def cmd_import_points(args) -> int:
    from server.services.point_import import import_points
    from server.services.problems import ImportFileError

    _, scope = _open(args)
    try:
        with scope as session:
            report = import_points(
                session, args.file, skip_bad=args.skip_bad, allow_similar=args.allow_similar
            )
            if report.written and (report.created or report.updated):
                audit.record(
                    session,
                    "points.import",
                    target_type="file",
                    target_id=args.file.name[:64],
                    detail={
                        "via": "cli",
                        "created": report.created,
                        "updated": report.updated,
                        "renamed": [[r.code, r.changes["name"][0], r.name] for r in report.renamed],
                        "skipped_rows": report.skipped_rows,
                    },
                )
    except ImportFileError as exc:
        raise CliError("cli.file_problem", file=args.file, problem=exc.message(_LANG[0])) from None
    for problem in report.problems:
        print(problem.line(_LANG[0]), file=sys.stderr)
    if not report.written:
        print(say("cli.import_refused", n=len(report.bad_rows)), file=sys.stderr)
        return 1
    for plan in report.renamed:
        old = plan.changes["name"][0]
        print(f"{plan.code} " + say("import.renamed", old=old, new=plan.name))
    print(
        say(
            "cli.imported",
            created=report.created,
            updated=report.updated,
            renamed=len(report.renamed),
            unchanged=report.unchanged,
            skipped=len(report.skipped_rows),
        )
    )
    return 0


def cmd_template_load(args) -> int:
    from server.domain.templates import TemplateError
    from server.services.templates import load_template

    try:
        content = json.loads(args.file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CliError("cli.file_problem", file=args.file, problem=exc) from None
    _, scope = _open(args)
    try:
        with scope as session:
            county = _county(session, args.county) if args.county else None
            version, created = load_template(session, content, county=county, note=args.note)
            if created:
                audit.record(
                    session,
                    "template.load",
                    target_type="template_version",
                    target_id=version.id,
                    detail={"via": "cli", "file": str(args.file)},
                )
    except TemplateError as exc:
        for err in exc.errors:
            print(f"  {err}", file=sys.stderr)
        raise CliError("cli.template_refused", file=args.file, n=len(exc.errors)) from None
    key = "cli.template_loaded" if created else "cli.template_unchanged"
    print(say(key, key=content.get("key"), version=version.version))
    return 0


def cmd_template_params(args) -> int:
    from server.domain.templates import TemplateError
    from server.services.templates import set_params

    overrides = {}
    for pair in args.assignments:
        name, _, raw = pair.partition("=")
        try:
            overrides[name] = json.loads(raw)
        except ValueError:
            raise CliError("cli.bad_assignment", pair=pair) from None
    _, scope = _open(args)
    try:
        with scope as session:
            county = _county(session, args.county)
            version, created = set_params(session, args.key, county, overrides)
            if created:
                audit.record(
                    session,
                    "template.params",
                    target_type="template_version",
                    target_id=version.id,
                    detail={"via": "cli", "params": overrides},
                )
    except LookupError:
        raise CliError("cli.unknown_template", key=args.key) from None
    except (TemplateError, ValueError) as exc:
        raise CliError("cli.params_refused", problem=exc) from None
    key = "cli.params_set" if created else "cli.params_unchanged"
    print(say(key, key=args.key, version=version.version, county=county.name))
    return 0


def cmd_template_list(args) -> int:
    from server.services.templates import catalogue

    _, scope = _open(args, write=False)
    with scope as session:
        for tpl, versions in catalogue(session):
            print(f"{tpl.key}  {tpl.name_zh}")
            for v, county in versions:
                where = f"{county.code} {county.name}" if county else say("cli.template_default")
                print(f"  v{v.version}  {where}  {v.created_at:%Y-%m-%d}  {v.note}")
    return 0


def cmd_cycle_add(args) -> int:
    from server.services.cycles import add_cycle

    _, scope = _open(args)
    with scope as session:
        add_cycle(session, args.county, args.name, args.start, args.end, current=args.current)
    print(say("cli.cycle_added", name=args.name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
