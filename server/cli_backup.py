"""`xunjian backup | restore | check`: the box's data in one archive, and back."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    b = sub.add_parser(
        "backup", help="database and photos into one archive (the server may keep running)"
    )
    b.add_argument("-o", "--output", required=True, type=Path, help="archive to write (.tar)")
    b.set_defaults(func=cmd_backup)

    r = sub.add_parser("restore", help="put an archive back (stop the server first)")
    r.add_argument("archive", type=Path)
    r.add_argument(
        "--force", action="store_true", help="replace a database that already holds data"
    )
    r.set_defaults(func=cmd_restore)

    c = sub.add_parser(
        "check", help="every photo the server holds is on disk with its hash; no stale uploads"
    )
    c.set_defaults(func=cmd_check)


def _say(key: str, **params) -> str:
    from server.cli import say

    return say(key, **params)


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f}"


def cmd_backup(args) -> int:
    from server.cli import CliError, _settings
    from server.db import engine_from_settings
    from server.services.backup import BackupError, backup

    settings = _settings(args)
    engine = engine_from_settings(settings)
    try:
        done = backup(engine, settings.database_url, settings.data_path, args.output)
    except BackupError as exc:
        raise CliError(exc.key, **exc.params) from None
    finally:
        engine.dispose()
    print(
        _say(
            "cli.backup.written",
            path=args.output,
            db=done.database,
            photos=done.photos,
            mb=_mb(done.photo_bytes),
        )
    )
    return 0


def cmd_restore(args) -> int:
    from server.cli import CliError, _settings
    from server.db import engine_from_settings
    from server.migrate import head_revisions
    from server.services.backup import BackupError, restore

    settings = _settings(args)
    engine = engine_from_settings(settings)
    try:
        done = restore(
            engine, settings.database_url, settings.data_path, args.archive, force=args.force
        )
    except BackupError as exc:
        raise CliError(exc.key, **exc.params) from None
    finally:
        engine.dispose()
    print(
        _say("cli.backup.restored", db=done.database, photos=done.photos, mb=_mb(done.photo_bytes))
    )
    if set(done.schema) != head_revisions(settings.database_url):
        print(_say("cli.backup.upgrade_next"))
    return 0


def cmd_check(args) -> int:
    import sys

    from server.cli import _open
    from server.services.store_check import check_store

    settings, scope = _open(args, write=False)
    with scope as session:
        report = check_store(session, settings.data_path)
    for sha in report.missing:
        names = ", ".join(report.named_by.get(sha, [])) or "—"
        print(_say("cli.check.missing", sha=sha, inspections=names), file=sys.stderr)
    for sha in report.damaged:
        names = ", ".join(report.named_by.get(sha, [])) or "—"
        print(_say("cli.check.damaged", sha=sha, inspections=names), file=sys.stderr)
    for name, hours in report.stale_partials:
        print(_say("cli.check.stale_partial", name=name, hours=f"{hours:.0f}"), file=sys.stderr)
    print(
        _say(
            "cli.check.summary",
            checked=report.photos_checked,
            missing=len(report.missing),
            damaged=len(report.damaged),
            stale=len(report.stale_partials),
            awaited=report.awaited,
        )
    )
    return 0 if report.ok else 1
