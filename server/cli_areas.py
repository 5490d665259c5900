"""`xunjian area import|add|rename|list`: a county's areas from its division codes."""

from __future__ import annotations

import sys
from pathlib import Path

from server.services import audit


def register(sub, opener) -> None:
    """Add the `area` commands; `opener(args, write=...)` gives (settings, session scope)."""
    area = sub.add_parser("area", help="areas: province > city > county > township")
    commands = area.add_subparsers()

    ai = commands.add_parser(
        "import",
        help="areas from a list of division codes (统计用区划代码, 6/9/12 digits) with names",
    )
    ai.add_argument("file", type=Path, help=".xlsx, .csv or Unicode text (UTF-16)")
    ai.set_defaults(func=lambda args: cmd_area_import(args, opener))

    aa = commands.add_parser("add", help="add one area; its parent must exist")
    aa.add_argument("code", help="division code, e.g. 610425101 (a township of 礼泉县)")
    aa.add_argument("name", help="e.g. 史德镇")
    aa.add_argument("--lat", type=float, help="latitude of its seat (degrees)")
    aa.add_argument("--lon", type=float, help="longitude of its seat (degrees)")
    aa.set_defaults(func=lambda args: cmd_area_add(args, opener))

    ar = commands.add_parser("rename", help="give an area a new name")
    ar.add_argument("code")
    ar.add_argument("name")
    ar.set_defaults(func=lambda args: cmd_area_rename(args, opener))

    al = commands.add_parser("list", help="list areas as a tree")
    al.add_argument("--under", help="only this area's subtree, e.g. 610425")
    al.set_defaults(func=lambda args: cmd_area_list(args, opener))


def _lang() -> str:
    from server.cli import _LANG

    return _LANG[0]


def _say(key: str, **params) -> str:
    from server.cli import say

    return say(key, **params)


def _fail(problem) -> int:
    from server.cli import CliError

    raise CliError("cli.problem", problem=problem.message(_lang()))


def cmd_area_import(args, opener) -> int:
    from server.cli import CliError
    from server.services.areas import import_areas, rows_from_sheet
    from server.services.problems import ImportFileError
    from server.services.sheets import read_path

    try:
        rows, problems = rows_from_sheet(read_path(args.file))
    except ImportFileError as exc:
        raise CliError("cli.file_problem", file=args.file, problem=exc.message(_lang())) from None
    _, scope = opener(args)
    with scope as session:
        report = import_areas(session, rows, problems)
        if report.written and (report.created or report.renamed):
            audit.record(
                session,
                "area.import",
                target_type="file",
                target_id=args.file.name[:64],
                detail={
                    "via": "cli",
                    "created": [a.code for a in report.created],
                    "renamed": [[a.code, old, a.name] for a, old in report.renamed],
                },
            )
        created = [(a.level, a.code) for a in report.created]
        renamed = [(a.code, old, a.name) for a, old in report.renamed]
    for problem in report.problems:
        print(problem.line(_lang()), file=sys.stderr)
    if not report.written:
        print(_say("cli.areas_refused", n=len(report.errors)), file=sys.stderr)
        return 1
    for code, old, new in renamed:
        print(_say("cli.area_renamed", code=code, old=old, new=new))
    levels: dict[str, int] = {}
    for level, _ in created:
        levels[level] = levels.get(level, 0) + 1
    detail = [f"{_say(f'areas.level.{level}')} {n}" for level, n in levels.items()]
    print(
        _say(
            "cli.areas_imported",
            created=len(created),
            levels=detail or "-",
            renamed=len(renamed),
            unchanged=report.unchanged,
        )
    )
    return 0


def cmd_area_add(args, opener) -> int:
    from server.services.areas import AreaError, add_area

    _, scope = opener(args)
    try:
        with scope as session:
            area = add_area(session, args.code, args.name, lat=args.lat, lon=args.lon)
            audit.record(
                session,
                "area.add",
                target_type="area",
                target_id=area.code,
                area_id=area.id,
                detail={"via": "cli", "name": area.name, "level": area.level},
            )
            code, name, level = area.code, area.name, area.level
    except AreaError as exc:
        return _fail(exc.problem)
    print(_say("cli.area_added", level=_say(f"areas.level.{level}"), code=code, name=name))
    return 0


def cmd_area_rename(args, opener) -> int:
    from server.services.areas import AreaError, rename_area

    _, scope = opener(args)
    try:
        with scope as session:
            area, old = rename_area(session, args.code, args.name)
            if old != area.name:
                audit.record(
                    session,
                    "area.rename",
                    target_type="area",
                    target_id=area.code,
                    area_id=area.id,
                    detail={"via": "cli", "old": old, "new": area.name},
                )
            code, name = area.code, area.name
    except AreaError as exc:
        return _fail(exc.problem)
    if old == name:
        print(_say("cli.area_unchanged", code=code, name=name))
    else:
        print(_say("cli.area_renamed", code=code, old=old, new=name))
    return 0


def cmd_area_list(args, opener) -> int:
    from server.services.areas import AreaError, area_tree

    _, scope = opener(args, write=False)
    try:
        with scope as session:
            lines = [
                f"{'  ' * n.depth}{n.area.code:<12} {n.area.name}  "
                + _say(f"areas.level.{n.area.level}")
                + (f"  {_say('cli.area_points', n=n.points)}" if n.points else "")
                for n in area_tree(session, args.under)
            ]
    except AreaError as exc:
        return _fail(exc.problem)
    print("\n".join(lines) if lines else _say("cli.no_areas"))
    return 0
