"""The merge rule, as one pure function. It is the whole answer to "two phones edited the same
inspection while offline"; the server only loads the three versions and stores the result.

Rule (also in docs/sync-protocol.md, "Conflicts"):

1. Three-way, field by field. The fields are each answer (``answers.<item>``), ``notes``,
   ``gps`` and ``started_at``. ``base`` is the server's version at the op's ``base_rev``,
   ``server`` the current one, ``client`` the op's data.
   - client value == server value: nothing to do;
   - client value == base value: the device did not touch it, the server's value stays;
   - server value == base value: only the device changed it, the device's value is taken;
   - otherwise both changed it to different values: a *conflict* on that field.
2. A conflicting field goes to the later hybrid logical clock: the op's (clamped) HLC against
   the HLC of the op that last wrote that field on the server. Both values are kept in the
   conflict record for a supervisor, and the device is told (ack status ``conflict``).
3. ``photos`` merge as a set keyed by (item, sha256): additions from either side are kept; a
   photo is dropped only when one side removed it and the other left it as it was in the base.
   Photos are evidence; they never conflict and are never silently lost.
4. ``status`` only moves forward (draft -> submitted). ``submitted_at`` is the first submission.
5. Identity (point, template, version, cycle) never changes after creation: an op that tries is
   rejected with ``immutable_field``, and the device keeps its copy in quarantine.

Because every step is a function of the three versions and the clocks, replaying the same op
against the same state gives the same result; the server additionally stores the ack so a
replay never even reaches this function.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sync.errors import Rejection
from sync.records import IDENTITY_FIELDS, normalize

_ABSENT = object()  # an answer that is not there (removing an answer is an edit)
_UNKNOWN = object()  # base not available: equal to nothing, so every difference is a conflict
REGISTERS = ("notes", "gps", "started_at")


@dataclass(frozen=True)
class FieldConflict:
    field: str
    server_value: Any
    client_value: Any
    winner: str  # "server" | "client"


@dataclass
class MergeResult:
    record: dict
    clocks: dict[str, str]
    conflicts: list[FieldConflict] = field(default_factory=list)
    changed: bool = False
    rejection: Rejection | None = None

    @property
    def outcome(self) -> str:
        if self.rejection:
            return "rejected"
        return "conflict" if self.conflicts else "applied"


def _get(rec: dict | None, path: str) -> Any:
    if rec is None:
        return _UNKNOWN
    if path.startswith("answers."):
        return rec.get("answers", {}).get(path[len("answers.") :], _ABSENT)
    return rec.get(path)


def _public(value: Any) -> Any:
    return None if value is _ABSENT or value is _UNKNOWN else value


def _photo_key(p: dict) -> tuple[str, str]:
    return (p["item"], p["sha256"])


def merge_photos(base: list | None, server: list, client: list) -> list:
    """Three-way set merge; with no base, the union."""
    s = {_photo_key(p): p for p in server}
    c = {_photo_key(p): p for p in client}
    b = {_photo_key(p) for p in base} if base is not None else set()
    keep = {}
    for key in s.keys() | c.keys():
        if key in b and not (key in s and key in c):
            continue  # one side removed it, the other kept the base's copy
        keep[key] = s.get(key) or c[key]
    return sorted(keep.values(), key=_photo_key)


def new_record(data: dict, hlc: str) -> MergeResult:
    return _created(normalize(data), hlc)


def _created(rec: dict, hlc: str) -> MergeResult:
    clocks = {f: hlc for f in _fields(None, rec, rec)}
    clocks["photos"] = hlc
    return MergeResult(rec, clocks, changed=True)


def _fields(base: dict | None, server: dict, client: dict) -> list[str]:
    keys: set[str] = set()
    for rec in (base, server, client):
        if rec is not None:
            keys.update(rec.get("answers", {}))
    return [*REGISTERS, *(f"answers.{k}" for k in sorted(keys))]


def merge(
    base: dict | None,
    server: dict | None,
    clocks: dict[str, str],
    client_data: dict,
    hlc: str,
    client: dict | None = None,
) -> MergeResult:
    """Merge ``client_data`` (from an op stamped ``hlc``) into ``server``; see module docstring.

    ``base`` is None when the server no longer knows the op's base (or the op is a create of a
    record that already exists): then every differing field is a conflict, never an overwrite.
    ``client``: normalize(client_data), where the caller has it already (the server works it
    out before its writer lock, sync_prepare); never changed here.
    """
    if client is None:
        client = normalize(client_data)
    if server is None:
        return _created(client, hlc)
    for key in IDENTITY_FIELDS:
        if key == "device_id":
            continue
        if client[key] != server[key]:
            return MergeResult(server, clocks, rejection=Rejection.of("immutable_field", key))

    merged = {**server, "answers": dict(server["answers"])}
    new_clocks = dict(clocks)
    conflicts: list[FieldConflict] = []
    for path in _fields(base, server, client):
        b, s, c = _get(base, path), _get(server, path), _get(client, path)
        if c == s or (b is not _UNKNOWN and c == b):
            continue
        if b is not _UNKNOWN and s == b:
            take_client = True
        else:
            take_client = hlc > clocks.get(path, "")
            conflicts.append(
                FieldConflict(path, _public(s), _public(c), "client" if take_client else "server")
            )
        if take_client:
            new_clocks[path] = hlc
            if path.startswith("answers."):
                key = path[len("answers.") :]
                if c is _ABSENT:
                    merged["answers"].pop(key, None)
                else:
                    merged["answers"][key] = c
            else:
                merged[path] = c

    photos = merge_photos(base["photos"] if base else None, server["photos"], client["photos"])
    if photos != server["photos"]:
        merged["photos"] = photos
        new_clocks["photos"] = max(hlc, clocks.get("photos", ""))

    if client["status"] == "submitted" and server["status"] != "submitted":
        merged["status"] = "submitted"
        merged["submitted_at"] = client["submitted_at"]
        new_clocks["status"] = hlc
    elif client["status"] == server["status"] == "submitted":
        firsts = [t for t in (server["submitted_at"], client["submitted_at"]) if t]
        merged["submitted_at"] = min(firsts) if firsts else None

    return MergeResult(merged, new_clocks, conflicts, changed=merged != server)


def resolve(
    server: dict, clocks: dict[str, str], choices: dict[str, Any], hlc: str
) -> tuple[dict, dict[str, str]]:
    """Apply a supervisor's chosen values (field path -> value; None removes an answer).

    The resolution is stamped with the server's own HLC, later than any op it has seen, so it
    wins against the versions it was chosen from.
    """
    merged = {**server, "answers": dict(server["answers"])}
    clocks = dict(clocks)
    for path, value in choices.items():
        if path.startswith("answers."):
            key = path[len("answers.") :]
            if value is None:
                merged["answers"].pop(key, None)
            else:
                merged["answers"][key] = value
        elif path in REGISTERS:
            merged[path] = value
        else:
            raise ValueError(f"{path} is not a mergeable field")
        clocks[path] = hlc
    return merged, clocks
