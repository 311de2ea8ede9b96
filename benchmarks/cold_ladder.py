"""Cold scans up the size ladder: ``python -m benchmarks.cold_ladder``.

``benchmarks/ladder.py`` measures reading and ranking trees of any size with no network; this
measures the cold registry path at those sizes: every name fetched, decoded, cached and
scored, through the same transport, decoding worker, gate and budgets as a real scan.

The ladder's npm lockfiles (5k, 20k and 50k entries by default; 50k entries hold 36,000
registry names) are served by the loopback replay (``benchmarks/replay.py``), each synthetic
name a real recorded packument: the i-th name the i-th of theia's recordings, in turn (109 KB
on average, up to 10 MB), so the bytes per name are a real tree's. Their versions are not the
recordings', so the installed versions' dates stay unknown; whether each package is in the
registry, its latest release and the rest are read as usual. One whole ``depaudit scan``
process per size (``--no-npm``, an empty cache): wall and CPU seconds (the decoding worker's
included), peak RSS, MB served, packages left unknown and any "stopped" warning, then the
growth exponent of CPU time over names (1 is linear). ``--before SRC`` runs another
checkout's ``src`` after each (``git worktree add /tmp/x COMMIT``).

``python -m benchmarks.cold_ladder [--entries 5000 20000 50000] [--delay-ms MS]
[--before SRC]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.cold_scan import CORPUS, DEFAULT_TARGET, depaudit_argv
from benchmarks.ladder import exponent, generate
from benchmarks.lockinfo import lockfile_in, registry_names
from benchmarks.measure import Run, compile_sources, run_process
from benchmarks.replay import ReplayServer, packument_path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "cold-ladder"


def recordings() -> list[Path]:
    """theia's recorded packuments (not its recorded 404s), in name order."""
    lock = lockfile_in(CORPUS / DEFAULT_TARGET)
    assert lock is not None
    found = [packument_path(n) for n in sorted(registry_names(lock))]
    found = [p for p in found if p.is_file()]
    if not found:
        sys.exit("no packument recorded: run `python -m benchmarks.record`")
    return found


def replay_root(names: list[str], sources: list[Path], root: Path) -> int:
    """A replay folder where the i-th name is the i-th recording, in turn (links); bytes."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    size = 0
    for i, name in enumerate(names):
        source = sources[i % len(sources)]
        packument_path(name, root).symlink_to(source)
        size += source.stat().st_size
    return size


def unknown_and_stopped(run: Run) -> tuple[int, list[str]]:
    try:
        report = json.loads(run.stdout)
    except ValueError:
        return -1, []
    unknown = sum(
        1
        for entry in report.get("packages", [])
        if (entry.get("facts") or {}).get("in_registry") is None
    )
    stopped = [w for w in report.get("warnings", []) if "stopped" in w]
    return unknown, stopped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, nargs="*", default=[5_000, 20_000, 50_000])
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--before", type=Path, default=None)
    args = parser.parse_args()
    compile_sources()
    if args.before is not None:
        compile_sources(args.before)
    sources = recordings()
    env = dict(os.environ, npm_config_update_notifier="false")
    rows: list[dict[str, Any]] = []
    WORK.mkdir(parents=True, exist_ok=True)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    for entries in args.entries:
        project = generate(WORK / "trees", entries, ("npm",))["npm"].parent
        lock = lockfile_in(project)
        assert lock is not None
        names = sorted(registry_names(lock))
        size = replay_root(names, sources, WORK / f"root-{entries}")
        runs: list[tuple[str, dict[str, str]]] = [("depaudit", env)]
        if args.before is not None:
            runs.append(("before", dict(env, PYTHONPATH=str(args.before))))
        with ReplayServer(WORK / f"root-{entries}", delay=args.delay_ms / 1000) as server:
            for label, run_env in runs:
                cache = Path(tempfile.mkdtemp(prefix="cache-", dir=WORK))
                server.stats.reset()
                run = run_process(depaudit_argv(lock, server.url, cache, None), project, run_env)
                shutil.rmtree(cache, ignore_errors=True)
                unknown, stopped = unknown_and_stopped(run)
                row = {
                    "label": label,
                    "entries": entries,
                    "names": len(names),
                    "mb_recorded": size / 2**20,
                    "mb_served": server.stats.bytes_sent / 2**20,
                    "seconds": run.seconds,
                    "cpu_seconds": run.cpu_seconds,
                    "peak_rss_mb": run.peak_rss_mb,
                    "code": run.returncode,
                    "unknown": unknown,
                    "stopped": stopped,
                }
                rows.append(row)
                print(
                    f"{label} {entries} entries ({len(names)} names): {run.seconds:.1f} s, CPU "
                    f"{run.cpu_seconds:.1f} s, {run.peak_rss_mb:.0f} MB, "
                    f"{row['mb_served']:.0f} MB served, {unknown} unknown, exit {run.returncode}"
                    + (f"; {stopped[0][:100]}" if stopped else ""),
                    file=sys.stderr,
                )
    lines = [
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {load} at the "
        f"start; {args.delay_ms:g} ms added round trip.",
        "",
        "| run | entries | registry names | MB served | wall | CPU | peak RSS | unknown |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines.extend(
        f"| {row['label']} | {row['entries']:,} | {row['names']:,} | "
        f"{row['mb_served']:,.0f} | {row['seconds']:.1f} s | {row['cpu_seconds']:.1f} s | "
        f"{row['peak_rss_mb']:.0f} MB | {row['unknown']:,} |"
        for row in rows
    )
    for label in dict.fromkeys(row["label"] for row in rows):
        points = [(r["names"], r["cpu_seconds"]) for r in rows if r["label"] == label]
        if len(points) > 1:
            lines.append("")
            lines.append(f"{label}: growth exponent of CPU over names {exponent(points):.2f}")
    (WORK / "cold_ladder.json").write_text(json.dumps(rows, indent=2))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
