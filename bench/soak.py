"""Steady sync load for a long time (30 minutes by default; not in CI), sampling the server's
memory (RSS of the whole process tree), its open files (/proc/PID/fd) and the latency of
the requests in each interval. Flat lines are the goal: a leak of memory, descriptors or
time per request shows as a slope.

Each device is the reference client in a loop: one new inspection with its photos, one
`sync()`, a pause. The plot is a small hand-written SVG (no plotting dependency).

    .venv/bin/python bench/soak.py [--minutes 30] [--devices 10] [--db sqlite] [--workers 1]
        [--every 10] [--svg docs/soak.svg] [--json /tmp/soak.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import threading
import time
from pathlib import Path

from sqlmodel import Session, select
from sync_common import PASSWORD, full_record, load_demo, new_database, settings_for
from sync_load import PREFIX, TimedTransport, add_accounts, attach_photos, pct

from server.db import make_engine
from server.models import ServicePoint
from sync.client import Client
from tests.live import LiveServer, server_env


def tree(pid: int) -> list[int]:
    """The process and its descendants (uvicorn's workers are children)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def rss_and_fds(pid: int) -> tuple[float, int]:
    rss_kb, fds = 0, 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        rss_kb += int(line.split()[1])
            fds += len(os.listdir(f"/proc/{p}/fd"))
        except OSError:
            continue
    return rss_kb / 1024, fds


def device_loop(i, url, codes, folder, log, stop, errors, counts) -> None:
    rng = random.Random(7000 + i)
    device = f"soak-{i}"
    transport = TimedTransport(url, log)
    phone = Client(os.path.join(folder, f"phone{i}.db"), transport, device)
    phone.login(f"{PREFIX}{i}", PASSWORD)
    phone.sync()
    transport.on = True
    n = 0
    while not stop.is_set():
        rec = full_record(rng, codes[(i * 11 + n) % len(codes)], device)
        attach_photos(phone, rec, rng, ("signboard", "shelving"), 100)
        phone.save_inspection(rec)
        try:
            phone.sync()
            counts[i] = counts.get(i, 0) + 1
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        # the photos are on the server now: drop them from the phone, as the app does
        phone.store.db.execute("DELETE FROM blobs WHERE state = 'done'")
        n += 1
        stop.wait(rng.uniform(1.0, 3.0))


def svg(samples: list[dict], path: Path, title: str) -> None:
    """Stacked panels over minutes: RSS (MB), open files, latency p50/p99 (ms), load."""
    w, h, left, top, gap = 760, 130, 70, 56, 45
    panels = [
        ("RSS, MB (server process tree)", [("rss_mb", "#1f6feb")]),
        ("open files (/proc/PID/fd)", [("fds", "#b35900")]),
        ("latency, ms (sync + photo requests)", [("p50_ms", "#2da44e"), ("p99_ms", "#cf222e")]),
        ("machine load average (1 min; 2 cores, shared)", [("load1", "#666666")]),
    ]
    t_max = max(s["minute"] for s in samples) or 1
    height = top + len(panels) * (h + gap) + 10
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + w + 30}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{left}" y="22" font-size="14" font-weight="bold">{title}</text>',
    ]
    for k, (label, series) in enumerate(panels):
        y0 = top + k * (h + gap)
        values = [s[key] for key, _ in series for s in samples]
        v_max = max(values) * 1.15 or 1
        out.append(
            f'<rect x="{left}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#888"/>'
        )
        out.append(f'<text x="{left}" y="{y0 - 6}">{label}</text>')
        for frac in (0, 0.5, 1):
            y = y0 + h - frac * h
            out.append(
                f'<text x="{left - 6}" y="{y + 4}" text-anchor="end">{v_max * frac:.0f}</text>'
            )
            out.append(f'<line x1="{left}" x2="{left + w}" y1="{y}" y2="{y}" stroke="#eee"/>')
        for key, colour in series:
            pts = " ".join(
                f"{left + s['minute'] / t_max * w:.1f},{y0 + h - s[key] / v_max * h:.1f}"
                for s in samples
            )
            out.append(
                f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="1.5"/>'
            )
        if len(series) > 1:
            for j, (key, colour) in enumerate(series):
                x = left + w - 90 + j * 45
                out.append(f'<text x="{x}" y="{y0 + 14}" fill="{colour}">{key[:3]}</text>')
        for frac in (0, 0.25, 0.5, 0.75, 1):
            x = left + frac * w
            tick = f"{t_max * frac:.0f} min"
            out.append(f'<text x="{x}" y="{y0 + h + 14}" text-anchor="middle">{tick}</text>')
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n")


def _title(summary: dict) -> str:
    return (
        f"soak: {summary['devices']} phones syncing steadily for {summary['minutes']:.0f} min, "
        f"{summary['db']}, {summary['workers']} worker(s)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--devices", type=int, default=10)
    ap.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--every", type=float, default=10, help="seconds between samples")
    ap.add_argument("--svg", default=str(Path(__file__).resolve().parents[1] / "docs/soak.svg"))
    ap.add_argument("--json", default="/tmp/soak.json")
    ap.add_argument("--replot", help="only draw the SVG again from a saved --json file")
    args = ap.parse_args()
    if args.replot:
        saved = json.loads(Path(args.replot).read_text())
        svg(saved["samples"], Path(args.svg), _title(saved))
        return

    url, cleanup = new_database(args.db)
    settings = settings_for(url)
    engine = make_engine(url)
    load_demo(engine, settings)
    add_accounts(engine, args.devices)
    with Session(engine) as s:
        codes = list(s.exec(select(ServicePoint.code).where(ServicePoint.kind == "village")))
    engine.dispose()
    env = server_env(settings.database_url, settings.data_dir, settings.secret_key)
    folder = tempfile.mkdtemp(prefix="xj-soak-")
    server = LiveServer(env, Path(folder) / "server.log", workers=args.workers)
    server.start()
    assert server.proc is not None
    log: list = []
    errors: list[str] = []
    counts: dict[int, int] = {}
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=device_loop, args=(i, server.url, codes, folder, log, stop, errors, counts)
        )
        for i in range(args.devices)
    ]
    samples: list[dict] = []
    t0 = time.monotonic()
    try:
        for t in threads:
            t.start()
        seen = 0
        while time.monotonic() - t0 < args.minutes * 60:
            time.sleep(args.every)
            window = log[seen:]
            seen += len(window)
            rss, fds = rss_and_fds(server.proc.pid)
            ms = [m for _, m, _ in window]
            sample = {
                "minute": round((time.monotonic() - t0) / 60, 2),
                "rss_mb": round(rss, 1),
                "fds": fds,
                "requests": len(window),
                "p50_ms": round(pct(ms, 50), 1),
                "p99_ms": round(pct(ms, 99), 1),
                "bad": sum(1 for _, _, st in window if st == 0 or st >= 500 or st == 429),
                "load1": round(os.getloadavg()[0], 1),
            }
            samples.append(sample)
            print(json.dumps(sample), flush=True)
    finally:
        stop.set()
        for t in threads:
            t.join(120)
        server.stop()
        cleanup()
    first = samples[: max(1, len(samples) // 6)]
    last = samples[-max(1, len(samples) // 6) :]

    def mean(rows, key):
        return round(sum(r[key] for r in rows) / len(rows), 1)

    summary = {
        "minutes": args.minutes,
        "devices": args.devices,
        "db": args.db,
        "workers": args.workers,
        "syncs": sum(counts.values()),
        "requests": len(log),
        "errors": len(errors),
        "bad_answers": sum(s["bad"] for s in samples),
        "first_sixth": {k: mean(first, k) for k in ("rss_mb", "fds", "p50_ms", "p99_ms", "load1")},
        "last_sixth": {k: mean(last, k) for k in ("rss_mb", "fds", "p50_ms", "p99_ms", "load1")},
        "samples": samples,
    }
    Path(args.json).write_text(json.dumps(summary, indent=1))
    svg(samples, Path(args.svg), _title(summary))
    print(json.dumps({k: v for k, v in summary.items() if k != "samples"}, indent=1))


if __name__ == "__main__":
    main()
