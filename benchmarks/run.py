"""Run every benchmark in one go: ``python -m benchmarks.run``.

1. parse: depaudit reading each npm lockfile of ``tests/corpus/real/`` against
   ``npm ls --package-lock-only --all --json`` (npm's own loader) on a copy of the same project;
2. cold scan: depaudit's full scan against ``npm outdated --all --json`` and ``libyear``, all
   pointed at one loopback replay registry (``benchmarks/replay.py``) serving the recordings
   made by ``python -m benchmarks.record``, every tool with an empty cache;
3. warm scan: depaudit again with the cache of a cold run and the replay server stopped;
4. peak RSS of every process (``wait4``).

Runs are interleaved (tool A, B, C, A, B, C, ...) and medians reported. Results go to stdout as
Markdown tables and to ``benchmarks/.work/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.lockinfo import entry_count, lockfile_in, registry_names
from benchmarks.measure import Run, compile_sources, fmt_ratio, fmt_s, median, run_process
from benchmarks.replay import PACKUMENTS, ReplayServer, missing_marker, packument_path
from benchmarks.workdir import copy_project, materialize

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent / "tests" / "corpus" / "real"
WORK = HERE / ".work"
PARSE_TARGETS = sorted(p.name for p in CORPUS.iterdir() if p.name.startswith("npm-"))
SCAN_TARGETS = ("npm-shrinkwrap-firebase-tools", "npm-lock-v3-theia-workspaces-large")
LIBYEAR_VERSION = "0.9.2"
DEPAUDIT = [sys.executable, "-m", "depaudit"]


def quiet_npm_env(cache: Path, registry: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        npm_config_cache=str(cache),
        npm_config_update_notifier="false",
        npm_config_audit="false",
        npm_config_fund="false",
        npm_config_loglevel="error",
    )
    if registry:
        env["npm_config_registry"] = registry
    return env


def tool_version(argv: list[str]) -> str:
    out = subprocess.run(argv, capture_output=True, text=True, check=False)
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else "?"


def machine() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "node": tool_version(["node", "--version"]),
        "npm": tool_version(["npm", "--version"]),
        "depaudit": tool_version([*DEPAUDIT, "--version"]),
        "libyear": LIBYEAR_VERSION,
    }


def depaudit_flags() -> set[str]:
    """The scan flags this depaudit has (the registry flags arrive in their own issue)."""
    out = subprocess.run([*DEPAUDIT, "scan", "--help"], capture_output=True, text=True)
    return {
        f
        for f in (
            "--offline",
            "--no-registry",
            "--registry",
            "--cache-dir",
            "--jobs",
            "--no-npm",
            "--github-api-url",
            "--no-advisories",
        )
        if f in out.stdout
    }


def interleave(tools: dict[str, Callable[[int], Run]], runs: int) -> dict[str, list[Run]]:
    results: dict[str, list[Run]] = {name: [] for name in tools}
    for i in range(runs):
        for name, fn in tools.items():
            results[name].append(fn(i))
    return results


def summary(runs: list[Run], ok: Callable[[Run], bool] | None = None) -> dict[str, Any]:
    good = [r for r in runs if ok is None or ok(r)]
    return {
        "runs": len(runs),
        "ok_runs": len(good),
        "median_s": median([r.seconds for r in good]),
        "all_s": [round(r.seconds, 4) for r in runs],
        "peak_rss_mb": max((r.peak_rss_mb for r in runs), default=float("nan")),
        "returncodes": sorted({r.returncode for r in runs}),
    }


def _ignore_index(fn: Callable[[], Run]) -> Callable[[int], Run]:
    return lambda _i: fn()


# --- 1. parse ----------------------------------------------------------------------------


def in_process_parse(lockfile: Path, runs: int) -> tuple[float, int]:
    """Median seconds of depaudit's own parser on ``lockfile`` (after one warm-up), and the
    number of packages it placed."""
    from depaudit.sources import source_for

    source = source_for(lockfile)
    tree = source.load(lockfile)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        source.load(lockfile)
        times.append(time.perf_counter() - start)
    return median(times), len(tree.packages)


def arborist_load(project: Path, runs: int) -> float:
    """Median seconds of npm's own loader in-process (Arborist.loadVirtual, from the installed
    npm), NaN when it cannot be run."""
    root = subprocess.run(["npm", "root", "-g"], capture_output=True, text=True).stdout.strip()
    out = subprocess.run(
        ["node", str(HERE / "arborist_load.js"), root, str(project), str(runs)],
        capture_output=True,
        text=True,
    )
    try:
        return float(json.loads(out.stdout)["median_s"])
    except (ValueError, KeyError):
        return float("nan")


def bench_parse(runs: int, flags: set[str]) -> list[dict[str, Any]]:
    rows = []
    for target in PARSE_TARGETS:
        project = copy_project(CORPUS / target, WORK / "parse" / target)
        lock = lockfile_in(project)
        assert lock is not None
        npm_cache = WORK / "npm-cache-parse"
        env = quiet_npm_env(npm_cache)
        cache_dir = Path(tempfile.mkdtemp(prefix="depaudit-parse-cache-", dir=WORK))
        cli = [*DEPAUDIT, "scan", "--lockfile", str(lock), "--format", "json"]
        # parse figure: tree checks only, no network (no registry, offline, empty cache)
        cli += [f for f in ("--no-registry", "--offline", "--no-npm") if f in flags]
        if "--cache-dir" in flags:
            cli += ["--cache-dir", str(cache_dir)]
        npm_ls = ["npm", "ls", "--package-lock-only", "--all", "--json"]
        tools: dict[str, Callable[[], Run]] = {
            "npm ls": partial(run_process, npm_ls, project, env),
            "depaudit cli": partial(run_process, cli, project),
        }
        results = interleave({k: _ignore_index(f) for k, f in tools.items()}, runs)
        inproc, placed = in_process_parse(lock, max(runs, 5))
        arborist = arborist_load(project, max(runs, 5))
        npm_s = summary(results["npm ls"])
        cli_s = summary(results["depaudit cli"], ok=lambda r: r.returncode in (0, 1))
        rows.append(
            {
                "target": target,
                "entries": entry_count(lock),
                "placed": placed,
                "npm_ls": npm_s,
                "depaudit_cli": cli_s,
                "depaudit_parse_median_s": inproc,
                "arborist_load_median_s": arborist,
            }
        )
        print(
            f"parse {target}: npm ls {fmt_s(npm_s['median_s'])}, depaudit cli "
            f"{fmt_s(cli_s['median_s'])}, parse {fmt_s(inproc)}",
            file=sys.stderr,
        )
    return rows


# --- 2./3. scans -------------------------------------------------------------------------


def recordings_complete(lock: Path) -> list[str]:
    return sorted(
        n
        for n in registry_names(lock)
        if not (packument_path(n).is_file() or missing_marker(n).is_file())
    )


def ensure_libyear() -> Path:
    prefix = WORK / "libyear"
    binary = prefix / "node_modules" / ".bin" / "libyear"
    if not binary.exists():
        prefix.mkdir(parents=True, exist_ok=True)
        (prefix / "package.json").write_text('{"private": true}\n')
        subprocess.run(
            ["npm", "install", "--no-save", f"libyear@{LIBYEAR_VERSION}"],
            cwd=prefix,
            check=True,
            env=quiet_npm_env(WORK / "npm-cache-install"),
            capture_output=True,
        )
    return binary


def libyear_ok(run: Run) -> bool:
    """libyear exits 0 even when it failed; it then prints ``{}`` instead of a list."""
    try:
        return isinstance(json.loads(run.stdout or b"null"), list)
    except ValueError:
        return False


def bench_scans(runs: int, flags: set[str], jobs: int | None) -> list[dict[str, Any]]:
    libyear = ensure_libyear()
    return [scan_target(target, runs, flags, jobs, libyear) for target in SCAN_TARGETS]


def scan_target(
    target: str, runs: int, flags: set[str], jobs: int | None, libyear: Path
) -> dict[str, Any]:
    project = copy_project(CORPUS / target, WORK / "scan" / target)
    lock = lockfile_in(project)
    assert lock is not None
    missing = recordings_complete(lock)
    if missing:
        sys.exit(
            f"{len(missing)} packuments not recorded (e.g. {missing[0]}): "
            "run `python -m benchmarks.record` first"
        )
    materialize(project, lock)
    scratch = Path(tempfile.mkdtemp(prefix="scan-", dir=WORK))
    warm_cache = scratch / "depaudit-warm-cache"
    requests: dict[str, list[int]] = {}
    bytes_sent: dict[str, list[int]] = {}
    misses: dict[str, set[str]] = {}

    with ReplayServer(PACKUMENTS) as server:
        url = server.url

        def depaudit_argv(cache_dir: Path, url: str = url, lock: Path = lock) -> list[str]:
            argv = [*DEPAUDIT, "scan", "--lockfile", str(lock), "--format", "json"]
            if "--registry" in flags:
                argv += ["--registry", url]
            if "--github-api-url" in flags:
                argv += ["--github-api-url", url + "github"]
            if "--cache-dir" in flags:
                argv += ["--cache-dir", str(cache_dir)]
            if "--no-npm" in flags:
                argv.append("--no-npm")
            if jobs and "--jobs" in flags:
                argv += ["--jobs", str(jobs)]
            return argv

        def metered(name: str, fn: Callable[[], Run]) -> Run:
            server.stats.reset()
            run = fn()
            requests.setdefault(name, []).append(server.stats.requests)
            bytes_sent.setdefault(name, []).append(server.stats.bytes_sent)
            misses.setdefault(name, set()).update(server.stats.missed_names)
            return run

        def depaudit_cold(i: int) -> Run:
            cache = warm_cache if i == 0 else scratch / f"depaudit-cache-{i}"
            env = quiet_npm_env(scratch / f"npm-cache-d{i}", url)
            return metered(
                "depaudit",
                lambda: run_process(depaudit_argv(cache), project, env),
            )

        def npm_outdated(i: int) -> Run:
            env = quiet_npm_env(scratch / f"npm-cache-o{i}", url)
            argv = ["npm", "outdated", "--all", "--json", "--registry", url]
            return metered("npm outdated", lambda: run_process(argv, project, env))

        def run_libyear(i: int) -> Run:
            env = quiet_npm_env(scratch / f"npm-cache-l{i}", url)
            return metered("libyear", lambda: run_process([str(libyear), "--json"], project, env))

        cold = interleave(
            {"depaudit": depaudit_cold, "npm outdated": npm_outdated, "libyear": run_libyear},
            runs,
        )
    # the server is stopped: a warm run that touches the network fails or warns
    env = quiet_npm_env(scratch / "npm-cache-w", url)
    warm = [run_process(depaudit_argv(warm_cache), project, env) for _ in range(max(runs, 5))]
    warm_report = json.loads(warm[-1].stdout or b"{}") if warm[-1].stdout else {}
    row = {
        "target": target,
        "entries": entry_count(lock),
        "names": len(registry_names(lock)),
        "cold": {
            "depaudit": summary(cold["depaudit"], ok=lambda r: r.returncode in (0, 1)),
            "npm outdated": summary(cold["npm outdated"]),
            "libyear": summary(cold["libyear"], ok=libyear_ok),
        },
        "warm": summary(warm, ok=lambda r: r.returncode in (0, 1)),
        "warm_warnings": warm_report.get("warnings", []),
        "requests": {k: sorted(set(v)) for k, v in requests.items()},
        "bytes": {k: sorted(set(v)) for k, v in bytes_sent.items()},
        "misses": {k: sorted(v)[:20] for k, v in misses.items()},
    }
    c = row["cold"]
    print(
        f"cold {target}: depaudit {fmt_s(c['depaudit']['median_s'])}, npm outdated "
        f"{fmt_s(c['npm outdated']['median_s'])}, libyear {fmt_s(c['libyear']['median_s'])};"
        f" warm {fmt_s(row['warm']['median_s'])}",
        file=sys.stderr,
    )
    shutil.rmtree(scratch, ignore_errors=True)
    return row


# --- report ------------------------------------------------------------------------------


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), Python {m['python']}, node {m['node']}, "
        f"npm {m['npm']}, libyear {m['libyear']}, {m['depaudit']}; {results['date']}; "
        f"scan flags found in `depaudit scan --help`: {' '.join(results['flags']) or 'none'}.",
        "",
    ]
    if results.get("parse"):
        lines += [
            "| lockfile | entries | npm ls (process) | depaudit CLI (process) | CLI ratio "
            "| npm loader (in-process) | depaudit parse (in-process) | parse ratio "
            "| RSS npm / depaudit |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in results["parse"]:
            npm_s = r["npm_ls"]["median_s"]
            cli_s = r["depaudit_cli"]["median_s"]
            lines.append(
                f"| {r['target']} | {r['entries']} | {fmt_s(npm_s)} | {fmt_s(cli_s)} "
                f"| {fmt_ratio(cli_s, npm_s)} | {fmt_s(r['arborist_load_median_s'])} "
                f"| {fmt_s(r['depaudit_parse_median_s'])} "
                f"| {fmt_ratio(r['depaudit_parse_median_s'], r['arborist_load_median_s'])} "
                f"| {r['npm_ls']['peak_rss_mb']:.0f} / {r['depaudit_cli']['peak_rss_mb']:.0f} MB |"
            )
        lines.append("")
    if results.get("scans"):
        lines += [
            "| lockfile (entries, names) | tool | median | ok runs | ratio depaudit/tool "
            "| peak RSS | requests | MB served |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in results["scans"]:
            ours = r["cold"]["depaudit"]["median_s"]
            label = f"{r['target']} ({r['entries']}, {r['names']})"
            for tool, s in r["cold"].items():
                req = r["requests"].get(tool, [])
                mb = [b / 2**20 for b in r["bytes"].get(tool, [])]
                lines.append(
                    f"| {label} | {tool} cold | {fmt_s(s['median_s'])} "
                    f"| {s['ok_runs']}/{s['runs']} "
                    f"| {'' if tool == 'depaudit' else fmt_ratio(ours, s['median_s'])} "
                    f"| {s['peak_rss_mb']:.0f} MB | {'/'.join(map(str, req))} "
                    f"| {'/'.join(f'{x:.0f}' for x in mb)} |"
                )
            w = r["warm"]
            lines.append(
                f"| {label} | depaudit warm (server stopped) | {fmt_s(w['median_s'])} "
                f"| {w['ok_runs']}/{w['runs']} | | {w['peak_rss_mb']:.0f} MB | stopped | stopped |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="interleaved runs per parse case")
    parser.add_argument("--scan-runs", type=int, default=3, help="interleaved cold-scan runs")
    parser.add_argument("--only", choices=["parse", "scan"], help="run one part")
    parser.add_argument("--jobs", type=int, help="pass --jobs to depaudit")
    args = parser.parse_args()
    compile_sources()
    WORK.mkdir(parents=True, exist_ok=True)
    flags = depaudit_flags()
    results: dict[str, Any] = {
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "flags": sorted(flags),
    }
    if args.only in (None, "parse"):
        results["parse"] = bench_parse(args.runs, flags)
    if args.only in (None, "scan"):
        if "--registry" not in flags:
            print("depaudit has no --registry yet: scans skipped", file=sys.stderr)
        else:
            results["scans"] = bench_scans(args.scan_runs, flags, args.jobs)
    (WORK / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
