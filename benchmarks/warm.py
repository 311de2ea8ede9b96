"""The warm scan against the parse-only scan, in pairs: ``python -m benchmarks.warm``.

Issue 17's target: a warm scan (every registry fact and advisory answered from the cache)
costs at most 150 ms of CPU more than the parse-only scan of the same lockfile. Both are whole
processes on one copy of a corpus project (theia's lockfile by default):

- warm: ``depaudit scan --lockfile L --format json --no-npm --registry URL --github-api-url
  URL/github --cache-dir C``, where C was filled by one cold scan of the same command against
  ``benchmarks/replay.py`` serving the recorded packuments (``--recordings``, default
  ``benchmarks/recordings/packuments``), and the server is stopped: a warm run that touched
  the network would warn (checked);
- parse-only: ``depaudit scan --lockfile L --format json --no-npm --no-registry --offline
  --cache-dir P``, where P holds only what a parse-only scan keeps there itself: the bundled
  data's fast forms, built by one parse-only run before the pairs. With an empty cache the
  parse-only scan builds them (PyYAML and the data files: 2.36 G instructions against 2.06 G
  under callgrind, ~60 ms here), work the warm scan, whose cache has them, does not do. Until
  2026-12-07 this benchmark gave the parse-only scan an empty cache in every pair, which
  flattered the warm scan by that much.

Each pair runs the two back to back (the order alternates) and keeps the difference of their
CPU time (user + system of the process and its children): on a machine shared with other work
the load changes between runs, a pair sees about the same load. ``--src LABEL=DIR`` (repeatable)
runs the depaudit whose sources are in DIR (``PYTHONPATH``) under LABEL, interleaved with the
others, each with its own cache: ``--src before=/tmp/old/src --src after=src`` compares two
versions in one run.

``--instructions`` also counts, once per version, the instructions of each of the two scans
under valgrind's callgrind (about a minute; the same count whatever the machine does, where
the pairs' times spread by more than the target's margin): the warm scan's extra as a count.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.lockinfo import lockfile_in
from benchmarks.measure import Run, compile_sources, instructions, run_process
from benchmarks.replay import PACKUMENTS, ReplayServer
from benchmarks.run import CORPUS, DEPAUDIT, WORK
from benchmarks.workdir import copy_project

#: warnings that mean a warm run used (or tried to use) the network
NETWORK_TROUBLE = ("could not fetch", "could not connect", "not available", "not in the cache")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(src: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEPAUDIT_")}
    if src is not None:
        env["PYTHONPATH"] = str(src.resolve())
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", default="npm-lock-v3-theia-workspaces-large")
    parser.add_argument("--pairs", type=int, default=9)
    parser.add_argument("--recordings", type=Path, default=PACKUMENTS)
    parser.add_argument("--src", action="append", default=[], metavar="LABEL=DIR")
    parser.add_argument(
        "--instructions", action="store_true", help="also count each scan's instructions"
    )
    args = parser.parse_args()
    sources: dict[str, Path | None] = {"depaudit": None}
    if args.src:
        sources = {}
        for item in args.src:
            label, _, folder = item.partition("=")
            sources[label] = Path(folder)
    compile_sources(*(folder for folder in sources.values() if folder is not None))
    WORK.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="warm-", dir=WORK))
    project = copy_project(CORPUS / args.target, scratch / args.target)
    lock = lockfile_in(project)
    assert lock is not None
    url = f"http://127.0.0.1:{free_port()}/"
    base = [*DEPAUDIT, "scan", "--lockfile", str(lock), "--format", "json", "--no-npm"]
    online = ["--registry", url, "--github-api-url", url + "github"]
    caches = {label: scratch / f"cache-{label}" for label in sources}
    plain = {label: scratch / f"parse-only-{label}" for label in sources}
    with ReplayServer(args.recordings, int(url.rsplit(":", 1)[1].rstrip("/"))):
        for label, src in sources.items():
            fill = run_process(
                [*base, *online, "--cache-dir", str(caches[label])], project, environment(src)
            )
            print(f"{label}: cache filled by a cold scan in {fill.seconds:.1f} s", flush=True)
    for label, src in sources.items():  # the parse-only scan's own cache: the fast forms
        primed = run_process(
            [*base, "--no-registry", "--offline", "--cache-dir", str(plain[label])],
            project,
            environment(src),
        )
        if primed.returncode not in (0, 1):
            print(f"{label}: the parse-only scan failed ({primed.returncode})")
            return 1
    load = os.getloadavg()
    rows: dict[str, list[tuple[Run, Run]]] = {label: [] for label in sources}
    for i in range(args.pairs):
        for label, src in sources.items():
            env = environment(src)
            warm_argv = [*base, *online, "--cache-dir", str(caches[label])]
            parse_argv = [*base, "--no-registry", "--offline", "--cache-dir", str(plain[label])]
            if i % 2:
                parse = run_process(parse_argv, project, env)
                warm = run_process(warm_argv, project, env)
            else:
                warm = run_process(warm_argv, project, env)
                parse = run_process(parse_argv, project, env)
            report = json.loads(warm.stdout or b"{}")
            trouble = [
                w for w in report.get("warnings", []) if any(t in w for t in NETWORK_TROUBLE)
            ]
            if warm.returncode not in (0, 1) or trouble:
                print(f"{label}: the warm run was not warm: {trouble or warm.returncode}")
                return 1
            rows[label].append((warm, parse))
    end = os.getloadavg()
    print(
        f"\nload average: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f} at the start of the pairs, "
        f"{end[0]:.2f}, {end[1]:.2f}, {end[2]:.2f} at the end"
    )
    print(f"{args.target}, {args.pairs} pairs per version (warm and parse-only back to back):\n")
    print("| version | pair | warm CPU | parse-only CPU | warm - parse | warm wall | parse wall |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, pairs in rows.items():
        for i, (warm, parse) in enumerate(pairs, 1):
            print(
                f"| {label} | {i} | {warm.cpu_seconds:.2f} s | {parse.cpu_seconds:.2f} s "
                f"| {(warm.cpu_seconds - parse.cpu_seconds) * 1000:+.0f} ms "
                f"| {warm.seconds:.2f} s | {parse.seconds:.2f} s |"
            )
    print()
    for label, pairs in rows.items():
        diffs = sorted((w.cpu_seconds - p.cpu_seconds) * 1000 for w, p in pairs)
        print(
            f"{label}: warm - parse-only CPU, median of {len(diffs)} pairs "
            f"{statistics.median(diffs):+.0f} ms (lower quartile {diffs[len(diffs) // 4]:+.0f}, "
            f"upper {diffs[(3 * len(diffs)) // 4]:+.0f}); median warm CPU "
            f"{statistics.median(w.cpu_seconds for w, _ in pairs):.2f} s"
        )
    if args.instructions:
        print("\ninstructions (callgrind, one run each):\n")
        print("| version | warm scan | parse-only scan | warm - parse-only |")
        print("|---|---:|---:|---:|")
        for label, src in sources.items():
            env = environment(src)
            warm_count = instructions(
                [*base, *online, "--cache-dir", str(caches[label])], project, env
            )
            parse_count = instructions(
                [*base, "--no-registry", "--offline", "--cache-dir", str(plain[label])],
                project,
                env,
            )
            if warm_count is None or parse_count is None:
                print(f"| {label} | valgrind did not count | | |")
                continue
            print(
                f"| {label} | {warm_count / 1e9:.3f} G | {parse_count / 1e9:.3f} G "
                f"| {(warm_count - parse_count) / 1e9:+.3f} G |"
            )
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
