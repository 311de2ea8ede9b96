"""Cold scan against the transport floor: ``python -m benchmarks.cold_scan``.

For one lockfile (theia's by default: 1,877 registry names, 205 MB of packuments) and each
added round trip (0 and 50 ms by default; ``benchmarks/replay.py --delay-ms``), pairs of

- **curl floor**: ``curl --parallel --parallel-max 32`` fetching every packument URL depaudit
  asks for from the same loopback replay, bodies to ``/dev/null`` (no decoding, C all the way);
- **depaudit cold**: the whole ``depaudit scan`` process with an empty cache folder (registry
  facts of every package, the advisory POST, the GitHub stand-in),

run back to back (curl, depaudit, curl, depaudit, ...: the machine is shared, so each depaudit
run is divided by the curl run next to it, and the median of those ratios is reported along
with the medians of the times). Peak RSS is GNU time's. The replay server runs in this process.
``--before SRC`` adds a third run to each pair: depaudit from another checkout's ``src``
folder (``git worktree add /tmp/x COMMIT``), for before/after figures from the same run; it
runs after this checkout's scan in even pairs and before it in odd ones, so that neither
always follows curl.
``--gzip`` has the replay gzip its bodies for clients that accept it, as the registry does
(curl then runs with ``--compressed``, inflating them too). ``--app-files N`` adds the app's
own code to the project: N generated TypeScript files (``benchmarks/code_monorepo.py``'s
generator) in ``server/``, which the scan's code rules read (cold: an empty cache).

``--installed`` lays out ``node_modules`` from the lockfile (``workdir.materialize``: a
package.json per placement and npm's hidden lockfile, as ``npm ci`` leaves them, without their
code) and has depaudit scan the folder, so its tree is read with ``npm ls`` (node, 2-2.5 s for
theia) as a user's installed project is; curl's floor is the same, and each pair also runs
``npm ls --all --long --json`` alone in the folder (what the scan runs), shown beside it.

``--live`` measures against the registry npm is configured with (``npm config get registry``,
and its ``cafile`` for curl) instead of the replay: each pair is curl at 32, 64 and 128
transfers in flight (HTTP/2 streams where the registry speaks it), asking for gzip as depaudit
does and writing the bodies as sent (no inflating: the bytes moved, nothing else), the fastest
of the three the floor; then the whole ``depaudit scan`` as a user runs it (the registry,
advisories and GitHub as configured; only the cache folder is new). The network's own
variance is in these figures, so take several pairs.

``--bound`` adds one more run to each pair (replay or ``--live``):
``benchmarks/fetch_decode.py --workers``, the fetch workers alone over the same names, forked
and given their jobs by the registry service's own code as a scan of this tree does, their
answers read and nothing else (no tree, no settling, no facts, no cache, no report); its
ratio to curl's floor is what the scan's fetch costs before any of the scan's own work. (Until
2026-12-08 it ran the scan's own fetch with decoding workers, the way of a fetch below
``DECODE_PROCESS_FROM`` names since the fetch workers, and against the replay only.)

``python -m benchmarks.cold_scan [--pairs N] [--delays 0,50] [--jobs N] [--before SRC]
[--app-files N] [--gzip] [--live] [--bound] [--installed]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.lockinfo import lockfile_in, registry_names
from benchmarks.measure import Run, compile_sources, median, run_process
from benchmarks.replay import PACKUMENTS, ReplayServer, missing_marker, packument_path
from benchmarks.workdir import copy_project, materialize

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent / "tests" / "corpus" / "real"
WORK = HERE / ".work"
DEFAULT_TARGET = "npm-lock-v3-theia-workspaces-large"
CURL_PARALLEL = 32
LIVE_PARALLEL = (32, 64, 128)  # curl's transfers in flight against the registry itself
WRITE_OUT = "%{http_code} %{size_download}\\n"
#: what the scan of an installed project runs (``sources/npm_ls_run.start_npm_ls``)
NPM_LS_ARGV = ["npm", "ls", "--all", "--long", "--json", "--ignore-scripts"]


def escape_name(name: str) -> str:
    from depaudit.services.registry import escape_name as depaudit_escape

    return depaudit_escape(name)


def curl_config(base: str, names: list[str], path: Path) -> Path:
    lines = []
    for name in names:
        lines.append(f'url = "{base}{escape_name(name)}"')
        lines.append('output = "/dev/null"')
    path.write_text("\n".join(lines) + "\n")
    return path


def curl_argv(config: Path, compressed: bool = False, parallel: int = CURL_PARALLEL) -> list[str]:
    return [
        "curl",
        *(["--compressed"] if compressed else []),  # asks for gzip and inflates it, as we do
        "--silent",
        "--parallel",
        "--parallel-max",
        str(parallel),
        "-H",
        "Accept: application/json",
        "--config",
        str(config),
    ]


def depaudit_argv(lock: Path, url: str | None, cache: Path, jobs: int | None) -> list[str]:
    """The scan's command line; ``url`` None leaves the registry and GitHub as configured;
    ``lock`` a folder: ``scan FOLDER`` (its node_modules read with npm ls, ``--installed``),
    else the lockfile alone."""
    argv = [sys.executable, "-m", "depaudit", "scan"]
    argv += [str(lock)] if lock.is_dir() else ["--lockfile", str(lock), "--no-npm"]
    argv += ["--format", "json", "--cache-dir", str(cache)]
    if url is not None:
        argv += ["--registry", url, "--github-api-url", url + "github"]
    if jobs:
        argv += ["--jobs", str(jobs)]
    return argv


def cold_run(
    lock: Path, url: str | None, cache: Path, jobs: int | None, project: Path, env: dict[str, str]
) -> Run:
    """One whole ``depaudit scan`` with the empty cache folder ``cache``, removed after."""
    run = run_process(depaudit_argv(lock, url, cache, jobs), project, env)
    shutil.rmtree(cache, ignore_errors=True)
    return run


def before_run(
    before: Path | None,
    lock: Path,
    url: str | None,
    cache: Path,
    jobs: int | None,
    project: Path,
    env: dict[str, str],
) -> Run | None:
    """:func:`cold_run` with the ``src`` folder of another checkout, when one is given."""
    if before is None:
        return None
    return cold_run(lock, url, cache, jobs, project, dict(env, PYTHONPATH=str(before)))


def unknown_packages(run: Run) -> int:
    """Packages whose registry facts the report leaves unknown (a transport failure)."""
    try:
        report = json.loads(run.stdout)
    except ValueError:
        return -1
    return sum(
        1
        for entry in report.get("packages", [])
        if (entry.get("facts") or {}).get("in_registry") is None
    )


def pair_row(curl: Run, ours: Run, old: Run | None) -> dict[str, Any]:
    """One pair's figures: curl's, depaudit's and, given, the other checkout's."""
    row: dict[str, Any] = {
        "curl_s": curl.seconds,
        "curl_cpu_s": curl.cpu_seconds,
        "depaudit_s": ours.seconds,
        "depaudit_cpu_s": ours.cpu_seconds,
        "depaudit_rss_mb": ours.peak_rss_mb,
        "depaudit_code": ours.returncode,
        "unknown": unknown_packages(ours),
        "ratio": ours.seconds / curl.seconds,
    }
    if old is not None:
        row.update(
            before_s=old.seconds,
            before_cpu_s=old.cpu_seconds,
            before_rss_mb=old.peak_rss_mb,
            before_ratio=old.seconds / curl.seconds,
            before_unknown=unknown_packages(old),
        )
    return row


def before_note(row: dict[str, Any], old: Run | None) -> str:
    if old is None:
        return ""
    return (
        f"; before {old.seconds:.2f} s ({row['before_ratio']:.2f}x, CPU "
        f"{old.cpu_seconds:.2f} s, {old.peak_rss_mb:.0f} MB, {row['before_unknown']} unknown)"
    )


def pairs_at(
    delay_ms: float,
    names: list[str],
    lock: Path,
    project: Path,
    pairs: int,
    jobs: int | None,
    before: Path | None = None,
    compress: bool = False,
    bound: bool = False,
    installed: bool = False,
) -> dict[str, Any]:
    scratch = Path(tempfile.mkdtemp(prefix="cold-", dir=WORK))
    names_file = scratch / "names.txt"
    names_file.write_text("\n".join(names) + "\n")
    env = dict(os.environ, npm_config_update_notifier="false")
    rows: list[dict[str, Any]] = []
    with ReplayServer(PACKUMENTS, delay=delay_ms / 1000, compress=compress) as server:
        if compress:  # every body gzipped before the first pair, not while it runs
            for name in names:
                if packument_path(name).is_file():
                    server.gzipped(packument_path(name))
        config = curl_config(server.url, names, scratch / "curl.cfg")
        for i in range(pairs):
            server.stats.reset()
            curl = run_process(curl_argv(config, compress), project, env)
            curl_requests, curl_bytes = server.stats.requests, server.stats.bytes_sent
            cache = scratch / f"cache-{i}"
            first = i % 2 == 1  # every other pair the other checkout runs first (no order bias)
            old = before_run(before, lock, server.url, cache, jobs, project, env) if first else None
            server.stats.reset()
            ours = cold_run(lock, server.url, cache, jobs, project, env)
            ours_requests, ours_bytes = server.stats.requests, server.stats.bytes_sent
            if not first:
                old = before_run(before, lock, server.url, cache, jobs, project, env)
            row = pair_row(curl, ours, old)
            note = bound_run(row, server.url, names_file, project, env) if bound else ""
            if installed:
                note += npm_ls_alone(row, project, env)
            row.update(
                curl_requests=curl_requests,
                curl_mb=curl_bytes / 2**20,
                depaudit_requests=ours_requests,
                depaudit_mb=ours_bytes / 2**20,
            )
            rows.append(row)
            print(
                f"{delay_ms:g} ms pair {i + 1}: curl {curl.seconds:.2f} s, depaudit "
                f"{ours.seconds:.2f} s ({row['ratio']:.2f}x, CPU {ours.cpu_seconds:.2f} s, "
                f"{ours.peak_rss_mb:.0f} MB, {row['unknown']} unknown, "
                f"{row['depaudit_requests']} requests)" + before_note(row, old) + note,
                file=sys.stderr,
            )
    shutil.rmtree(scratch, ignore_errors=True)
    return summary(delay_ms, rows, before is not None)


def bound_run(
    row: dict[str, Any], base: str, names_file: Path, project: Path, env: dict[str, str]
) -> str:
    """``benchmarks/fetch_decode.py --workers`` (the fetch workers alone, as the scan runs
    them, from ``base``, ``-`` for npm's registry) in ``project``: its time and ratio to the
    pair's curl floor into ``row``; the pair's note."""
    path = os.pathsep.join(filter(None, (str(HERE.parent), env.get("PYTHONPATH"))))
    alone = run_process(
        [sys.executable, "-m", "benchmarks.fetch_decode", "--workers", base, str(names_file)],
        project,
        dict(env, PYTHONPATH=path),  # (this checkout's benchmarks, from the project's folder)
    )
    counts = json.loads(alone.stdout or b"{}")
    row.update(
        bound_s=alone.seconds,
        bound_cpu_s=alone.cpu_seconds,
        bound_ratio=alone.seconds / row["curl_s"],
        bound_counts=counts,
    )
    return (
        f"; the fetch workers alone {alone.seconds:.2f} s "
        f"({row['bound_ratio']:.2f}x, CPU {alone.cpu_seconds:.2f} s, "
        f"{counts.get('decoded')} of {counts.get('names')} decoded)"
    )


def npm_ls_alone(row: dict[str, Any], project: Path, env: dict[str, str]) -> str:
    """``npm ls`` as the scan of an installed project runs it, alone in ``project``: its time
    (and its ratio to the pair's curl floor) into ``row``; the pair's note."""
    from depaudit.sources.npm_ls_run import NPM_ENV

    alone = run_process(NPM_LS_ARGV, project, {**env, **NPM_ENV})
    row.update(npm_ls_s=alone.seconds, npm_ls_cpu_s=alone.cpu_seconds)
    row["npm_ls_ratio"] = alone.seconds / row["curl_s"]
    return f"; npm ls alone {alone.seconds:.2f} s (CPU {alone.cpu_seconds:.2f} s)"


def summary(where: float | str, rows: list[dict[str, Any]], before: bool) -> dict[str, Any]:
    """Medians of the pairs at one added round trip (or ``"registry"``)."""
    return {
        "delay_ms": where,
        "pairs": rows,
        "curl_median_s": median([r["curl_s"] for r in rows]),
        "depaudit_median_s": median([r["depaudit_s"] for r in rows]),
        "depaudit_cpu_median_s": median([r["depaudit_cpu_s"] for r in rows]),
        "ratio_median": median([r["ratio"] for r in rows]),
        "peak_rss_mb": max(r["depaudit_rss_mb"] for r in rows),
        "before": None
        if not before
        else {
            "median_s": median([r["before_s"] for r in rows]),
            "cpu_median_s": median([r["before_cpu_s"] for r in rows]),
            "ratio_median": median([r["before_ratio"] for r in rows]),
            "ratios": [r["before_ratio"] for r in rows],
            "peak_rss_mb": max(r["before_rss_mb"] for r in rows),
        },
        "bound": beside(rows, "bound"),
        "npm_ls": beside(rows, "npm_ls"),
    }


def beside(rows: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
    """Medians of a run made beside each pair (``KEY_s``, ``KEY_cpu_s``, ``KEY_ratio`` in its
    rows: ``--bound``'s fetch and decoding alone, ``--installed``'s npm ls alone), or None."""
    if f"{key}_s" not in rows[0]:
        return None
    return {
        "median_s": median([r[f"{key}_s"] for r in rows]),
        "cpu_median_s": median([r[f"{key}_cpu_s"] for r in rows]),
        "ratio_median": median([r[f"{key}_ratio"] for r in rows]),
        "ratios": [r[f"{key}_ratio"] for r in rows],
    }


def npm_config(key: str) -> str | None:
    """npm's own answer for ``key`` (``npm config get``), None where npm has none."""
    done = subprocess.run(["npm", "config", "get", key], capture_output=True, text=True)
    value = done.stdout.strip()
    return value if done.returncode == 0 and value not in ("", "null", "undefined") else None


def live_pairs(
    names: list[str],
    lock: Path,
    project: Path,
    pairs: int,
    jobs: int | None,
    before: Path | None = None,
    installed: bool = False,
    bound: bool = False,
) -> dict[str, Any]:
    """Pairs against the registry npm is configured with: curl at each of ``LIVE_PARALLEL`` in
    flight (the fastest is the floor), then depaudit, then ``before`` if given (and ``npm ls``
    alone where ``installed``, the fetch workers alone where ``bound``)."""
    base = npm_config("registry")
    if base is None:
        sys.exit("npm has no registry configured")
    base = base if base.endswith("/") else base + "/"
    cafile = npm_config("cafile")
    scratch = Path(tempfile.mkdtemp(prefix="cold-live-", dir=WORK))
    env = dict(os.environ, npm_config_update_notifier="false")
    config = curl_config(base, names, scratch / "curl.cfg")
    names_file = scratch / "names.txt"
    names_file.write_text("\n".join(names) + "\n")
    rows: list[dict[str, Any]] = []
    for i in range(pairs):
        floors: dict[int, Run] = {}
        for parallel in LIVE_PARALLEL:
            argv = curl_argv(config, parallel=parallel)
            argv[1:1] = ["--cacert", cafile] if cafile else []
            argv[1:1] = ["-H", "Accept-Encoding: gzip", "--write-out", WRITE_OUT]
            floors[parallel] = run_process(argv, project, env)
        curl = min(floors.values(), key=lambda r: r.seconds)
        answers = curl.stdout.decode().split()
        statuses, sizes = answers[0::2], answers[1::2]
        cache = scratch / f"cache-{i}"
        first = i % 2 == 1  # every other pair the other checkout runs first (no order bias)
        old = before_run(before, lock, None, cache, jobs, project, env) if first else None
        ours = cold_run(lock, None, cache, jobs, project, env)
        if not first:
            old = before_run(before, lock, None, cache, jobs, project, env)
        row = pair_row(curl, ours, old)
        row.update(
            curl_by_parallel_s={str(n): run.seconds for n, run in floors.items()},
            curl_requests=len(statuses),
            curl_not_ok=sum(1 for code in statuses if code not in ("200", "404")),
            curl_mb=sum(int(n) for n in sizes) / 2**20,
        )
        note = npm_ls_alone(row, project, env) if installed else ""
        note += bound_run(row, "-", names_file, project, env) if bound else ""
        rows.append(row)
        print(
            f"live pair {i + 1}: curl "
            + " / ".join(f"{run.seconds:.2f} s ({n})" for n, run in floors.items())
            + f", {row['curl_mb']:.0f} MB as sent, {row['curl_not_ok']} not 200/404; depaudit "
            f"{ours.seconds:.2f} s ({row['ratio']:.2f}x, CPU {ours.cpu_seconds:.2f} s, "
            f"{ours.peak_rss_mb:.0f} MB, exit {ours.returncode}, {row['unknown']} unknown)"
            + before_note(row, old)
            + note,
            file=sys.stderr,
        )
    shutil.rmtree(scratch, ignore_errors=True)
    return summary("registry", rows, before is not None)


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"{results['date']}, load average {results['load']} at the start; "
        f"{results['target']} ({results['names']} names, "
        + (
            f"{median([p['curl_mb'] for p in results['delays'][0]['pairs']]):.0f} MB as sent, "
            "the registry npm is configured with; curl at "
            + ", ".join(str(n) for n in LIVE_PARALLEL)
            + " in flight, bodies as sent, the fastest the floor"
            if results.get("live")
            else f"{results['mb']:.0f} MB of packuments"
        )
        + (f"; {results['app_files']} app files" if results.get("app_files") else "")
        + ("; gzipped, curl --compressed" if results.get("gzip") else "")
        + (
            "; node_modules laid out, the folder scanned (npm ls)"
            if results.get("installed")
            else ""
        )
        + "); "
        f"depaudit --jobs {results['jobs'] or 'default'}.",
        "",
        "| added round trip | curl floor (median) | depaudit cold (median) | depaudit/curl "
        "(median of pairs) | pairs' ratios | depaudit CPU | peak RSS |",
        "|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in results["delays"]:
        ratios = ", ".join(f"{p['ratio']:.2f}" for p in r["pairs"])
        where = r["delay_ms"]
        where = f"{where:g} ms" if isinstance(where, float) else "the registry itself"
        lines.append(
            f"| {where} | {r['curl_median_s']:.2f} s | {r['depaudit_median_s']:.2f} s "
            f"| **{r['ratio_median']:.2f}x** | {ratios} | {r['depaudit_cpu_median_s']:.2f} s "
            f"| {r['peak_rss_mb']:.0f} MB |"
        )
        b = r.get("before")
        if b:
            lines.append(
                f"| {where}, before | (same runs) | {b['median_s']:.2f} s "
                f"| {b['ratio_median']:.2f}x | {', '.join(f'{x:.2f}' for x in b['ratios'])} "
                f"| {b['cpu_median_s']:.2f} s | {b['peak_rss_mb']:.0f} MB |"
            )
        for label, key in (("the fetch workers alone", "bound"), ("npm ls alone", "npm_ls")):
            a = r.get(key)
            if a:
                lines.append(
                    f"| {where}, {label} | (same runs) | {a['median_s']:.2f} s "
                    f"| {a['ratio_median']:.2f}x | {', '.join(f'{x:.2f}' for x in a['ratios'])} "
                    f"| {a['cpu_median_s']:.2f} s | |"
                )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--delays", default="0,50", help="added round trips in ms")
    parser.add_argument("--jobs", type=int, help="pass --jobs to depaudit")
    parser.add_argument("--target", default=DEFAULT_TARGET)
    parser.add_argument("--before", type=Path, help="src folder of another checkout")
    parser.add_argument("--app-files", type=int, default=0, help="generated app files to add")
    parser.add_argument(
        "--gzip", action="store_true", help="the replay gzips its bodies (curl --compressed)"
    )
    parser.add_argument(
        "--live", action="store_true", help="against the registry npm is configured with"
    )
    parser.add_argument(
        "--bound", action="store_true", help="also depaudit's fetch workers alone, each pair"
    )
    parser.add_argument(
        "--installed",
        action="store_true",
        help="node_modules laid out from the lockfile; depaudit scans the folder (npm ls)",
    )
    args = parser.parse_args()
    compile_sources(*([args.before] if args.before else []), HERE.parent / "src")
    WORK.mkdir(parents=True, exist_ok=True)
    project = copy_project(CORPUS / args.target, WORK / "cold" / args.target)
    if args.app_files:
        from benchmarks.code_monorepo import generate

        generate(project / "server", args.app_files)
    lock = lockfile_in(project)
    assert lock is not None
    names = sorted(registry_names(lock))
    if args.installed:  # npm ls reads it: the scan is of the folder, not of the lockfile
        materialize(project, lock)
        lock = project
    missing = [n for n in names if not (packument_path(n).is_file() or missing_marker(n).is_file())]
    if missing and not args.live:
        sys.exit(f"{len(missing)} packuments not recorded: run `python -m benchmarks.record`")
    size = sum(packument_path(n).stat().st_size for n in names if packument_path(n).is_file())
    common = (names, lock, project, args.pairs, args.jobs, args.before)  # (every pair's)
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "target": args.target,
        "app_files": args.app_files,
        "gzip": args.gzip,
        "live": args.live,
        "installed": args.installed,
        "names": len(names),
        "mb": size / 2**20,
        "jobs": args.jobs,
        "before": str(args.before) if args.before else None,
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE
        ).stdout.strip(),
        "delays": [live_pairs(*common, args.installed, args.bound)]
        if args.live
        else [
            pairs_at(float(d), *common, args.gzip, args.bound, args.installed)
            for d in args.delays.split(",")
        ],
    }
    (WORK / "cold_scan.json").write_text(json.dumps(results, indent=2))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
