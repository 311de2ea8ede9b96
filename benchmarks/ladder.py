"""Synthetic lockfiles of any size, shaped like theia's (``tests/corpus/real/
npm-lock-v3-theia-workspaces-large``): ``python -m benchmarks.ladder OUT --entries 20000``.

One abstract graph is written as an npm v3 lockfile, a yarn classic lockfile and a pnpm v9
lockfile, each in its own project folder with the root and workspace ``package.json`` files
the readers compare against. The shape follows theia's: about 4 % of the entries are
workspaces (theia: 107 of 2,637), about 70 % hoisted packages, about a quarter nested copies
of a second major version under the package that wants it, two edges per package on average
(theia: 1.97), ranges mostly ``^`` with some ``~``, exact, ``x`` and comparator ranges, a few
back edges (cycles) and a few edges whose range the placement does not satisfy (invalid).

``--chain N`` instead writes a single dependency chain N packages deep (issue 19, item 13).
Everything is deterministic (seeded); resolved URLs point at ``registry.invalid``.

``python -m benchmarks.ladder OUT --entries 50000 --before OTHER/src [--pairs N]`` runs this
checkout and another one (``git worktree add``) in pairs on the same lockfiles, the order
alternating, and prints the CPU ratio of each pair's median (the machine's speed drifts by a
quarter within minutes; a pair sees about the same).

``python -m benchmarks.ladder OUT --bench [--runs N] [--chain 10000]`` generates what is
missing, scans each lockfile once (``depaudit scan --offline --no-registry --no-npm``, a whole
process; ``--runs N``: N rounds, the least time of each kept) and prints wall and CPU time,
peak RSS, report size, and the growth exponent (least-squares slope of log CPU time over log
entries from 5k up; 1 is linear).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import random
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

FORMATS = ("npm", "yarn", "pnpm")
LADDER = (1_000, 5_000, 20_000, 50_000, 100_000)


@dataclass
class Pkg:
    name: str
    version: str
    # (dependency name, range, version it resolves to)
    deps: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class Workspace:
    name: str
    folder: str
    deps: list[tuple[str, str, str]] = field(default_factory=list)  # name, range, version
    workspace_deps: list[str] = field(default_factory=list)  # names of other workspaces


@dataclass
class Graph:
    primaries: dict[str, Pkg]  # by name: the hoisted version
    secondaries: dict[str, Pkg]  # by name: a second major, nested under each dependent
    nested_under: dict[str, list[str]]  # secondary name -> names of primaries that want it
    workspaces: list[Workspace]
    root_dev: list[tuple[str, str, str]]


def _range(rng: random.Random, version: str) -> str:
    major, minor, patch = version.split(".")
    roll = rng.random()
    if roll < 0.70:
        return f"^{version}"
    if roll < 0.82:
        return f"~{version}"
    if roll < 0.90:
        return version
    if roll < 0.95:
        return f"{major}.x"
    return f">={major}.{minor}.0 <{int(major) + 1}.0.0"


def _name(i: int) -> str:
    return f"@s{i % 40}/pkg-{i}" if i % 4 == 0 else f"pkg-{i}"


def _version(i: int) -> str:
    return f"{1 + i % 5}.{i % 13}.{i % 7}"


def build_graph(entries: int, seed: int = 17) -> Graph:
    """A graph whose npm lockfile has about ``entries`` entries."""
    rng = random.Random(seed)
    n_ws = max(2, min(entries // 25, 2000))
    n_nested = int(entries * 0.24)
    n_primary = max(10, entries - 2 * n_ws - n_nested - 1)
    names = [_name(i) for i in range(n_primary)]
    primaries = {n: Pkg(n, _version(i)) for i, n in enumerate(names)}
    for i, name in enumerate(names):
        pkg = primaries[name]
        count = rng.choice((0, 0, 1, 1, 2, 2, 3, 4, 5))
        picked: set[int] = set()
        for _ in range(count):
            j = i + 1 + int(rng.expovariate(1 / 300))
            if j >= n_primary:
                continue
            if rng.random() < 0.01 and i > 0:
                j = rng.randrange(0, i)  # a back edge: a cycle
            if j in picked:
                continue
            picked.add(j)
            dep = primaries[names[j]]
            wanted = "^99.0.0" if rng.random() < 0.003 else _range(rng, dep.version)
            pkg.deps.append((dep.name, wanted, dep.version))
    # second majors, each nested under one to three dependents
    secondaries: dict[str, Pkg] = {}
    nested_under: dict[str, list[str]] = {}
    made = 0
    while made < n_nested:
        j = rng.randrange(n_primary)
        name = names[j]
        if name in secondaries:
            continue
        major = int(primaries[name].version.split(".")[0]) + 1
        sec = Pkg(name, f"{major}.{j % 3}.{j % 5}")
        for _ in range(rng.choice((0, 1, 1, 2))):
            k = rng.randrange(n_primary)
            if names[k] != name:
                dep = primaries[names[k]]
                sec.deps.append((dep.name, _range(rng, dep.version), dep.version))
        parents: list[str] = []
        for _ in range(rng.choice((1, 1, 2, 3))):
            p = names[rng.randrange(n_primary)]
            if p == name or p in parents or any(d[0] == name for d in primaries[p].deps):
                continue
            parents.append(p)
            primaries[p].deps.append((name, f"^{sec.version}", sec.version))
        if not parents:
            continue
        secondaries[name] = sec
        nested_under[name] = parents
        made += len(parents)
    workspaces = []
    for w in range(n_ws):
        ws = Workspace(f"@ws/ws-{w}", f"packages/ws-{w}")
        for j in rng.sample(range(min(n_primary, 400 + w * 40)), k=min(15, n_primary)):
            dep = primaries[names[j]]
            ws.deps.append((dep.name, _range(rng, dep.version), dep.version))
        if w:
            ws.workspace_deps = sorted({f"@ws/ws-{rng.randrange(w)}" for _ in range(2)})
        workspaces.append(ws)
    root_dev = []
    for j in rng.sample(range(n_primary), k=min(30, n_primary)):
        dep = primaries[names[j]]
        root_dev.append((dep.name, _range(rng, dep.version), dep.version))
    return Graph(primaries, secondaries, nested_under, workspaces, root_dev)


def chain_graph(depth: int) -> Graph:
    """One chain ``link-0 -> link-1 -> ... -> link-(depth-1)``, the root depending on link-0."""
    names = [f"link-{i}" for i in range(depth)]
    primaries = {n: Pkg(n, "1.0.0") for n in names}
    for a, b in zip(names, names[1:], strict=False):
        primaries[a].deps.append((b, "^1.0.0", "1.0.0"))
    return Graph(primaries, {}, {}, [], [(names[0], "^1.0.0", "1.0.0")])


# --- writers ----------------------------------------------------------------------------


def _integrity(name: str, version: str) -> str:
    digest = hashlib.sha512(f"{name}@{version}".encode()).digest()
    return "sha512-" + base64.b64encode(digest).decode()


def _tarball(name: str, version: str) -> str:
    base = name.rsplit("/", 1)[-1]
    return f"https://registry.invalid/{name}/-/{base}-{version}.tgz"


def _manifests(graph: Graph, out: Path, workspace_spec: str) -> None:
    root: dict[str, object] = {
        "name": "ladder-monorepo",
        "version": "0.0.0",
        "private": True,
        "devDependencies": {n: r for n, r, _ in graph.root_dev},
    }
    if graph.workspaces:
        root["workspaces"] = ["packages/*"]
    (out / "package.json").write_text(json.dumps(root, indent=2))
    for ws in graph.workspaces:
        folder = out / ws.folder
        folder.mkdir(parents=True, exist_ok=True)
        deps = {n: r for n, r, _ in ws.deps}
        deps.update(dict.fromkeys(ws.workspace_deps, workspace_spec))
        manifest = {"name": ws.name, "version": "1.0.0", "dependencies": deps}
        (folder / "package.json").write_text(json.dumps(manifest, indent=2))


def write_npm(graph: Graph, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    _manifests(graph, out, "1.0.0")
    packages: dict[str, dict[str, object]] = {
        "": {
            "name": "ladder-monorepo",
            "version": "0.0.0",
            **({"workspaces": ["packages/*"]} if graph.workspaces else {}),
            "devDependencies": {n: r for n, r, _ in graph.root_dev},
        }
    }
    for ws in graph.workspaces:
        deps = {n: r for n, r, _ in ws.deps}
        deps.update(dict.fromkeys(ws.workspace_deps, "1.0.0"))
        packages[ws.folder] = {"name": ws.name, "version": "1.0.0", "dependencies": deps}
    for ws in graph.workspaces:
        packages[f"node_modules/{ws.name}"] = {"resolved": ws.folder, "link": True}

    def entry(pkg: Pkg) -> dict[str, object]:
        body: dict[str, object] = {
            "version": pkg.version,
            "resolved": _tarball(pkg.name, pkg.version),
            "integrity": _integrity(pkg.name, pkg.version),
            "license": "MIT",
        }
        if pkg.deps:
            body["dependencies"] = {n: r for n, r, _ in pkg.deps}
        return body

    for name in sorted(graph.primaries):
        packages[f"node_modules/{name}"] = entry(graph.primaries[name])
    for name, parents in graph.nested_under.items():
        for parent in parents:
            packages[f"node_modules/{parent}/node_modules/{name}"] = entry(graph.secondaries[name])
    lock = {
        "name": "ladder-monorepo",
        "version": "0.0.0",
        "lockfileVersion": 3,
        "requires": True,
        "packages": dict(sorted(packages.items())),
    }
    path = out / "package-lock.json"
    path.write_text(json.dumps(lock, indent=2) + "\n")
    return path


def _all_pkgs(graph: Graph) -> list[Pkg]:
    return [*graph.primaries.values(), *graph.secondaries.values()]


def _wanted_ranges(graph: Graph) -> dict[tuple[str, str], set[str]]:
    """(name, version) -> every range some edge asks it for."""
    wanted: dict[tuple[str, str], set[str]] = {}
    edges = [d for p in _all_pkgs(graph) for d in p.deps]
    edges += [d for ws in graph.workspaces for d in ws.deps] + graph.root_dev
    for name, rng, version in edges:
        wanted.setdefault((name, version), set()).add(rng)
    return wanted


def write_yarn(graph: Graph, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    _manifests(graph, out, "1.0.0")
    wanted = _wanted_ranges(graph)
    blocks = [
        "# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n# yarn lockfile v1\n"
    ]
    for pkg in sorted(_all_pkgs(graph), key=lambda p: (p.name, p.version)):
        ranges = sorted(wanted.get((pkg.name, pkg.version), ()))
        if not ranges:
            continue
        keys = ", ".join(f'"{pkg.name}@{r}"' for r in ranges)
        lines = [
            f"{keys}:",
            f'  version "{pkg.version}"',
            f'  resolved "{_tarball(pkg.name, pkg.version)}"',
            f"  integrity {_integrity(pkg.name, pkg.version)}",
        ]
        if pkg.deps:
            lines.append("  dependencies:")
            lines.extend(f'    "{n}" "{r}"' for n, r, _ in pkg.deps)
        blocks.append("\n".join(lines) + "\n")
    path = out / "yarn.lock"
    path.write_text("\n".join(blocks))
    return path


def _q(text: str) -> str:
    return f"'{text}'"


def write_pnpm(graph: Graph, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    _manifests(graph, out, "workspace:*")
    if graph.workspaces:
        (out / "pnpm-workspace.yaml").write_text("packages:\n  - 'packages/*'\n")
    lines = [
        "lockfileVersion: '9.0'",
        "",
        "settings:",
        "  autoInstallPeers: true",
        "  excludeLinksFromLockfile: false",
        "",
        "importers:",
        "",
    ]

    def importer(
        key: str, section: str, deps: list[tuple[str, str, str]], links: list[str]
    ) -> None:
        lines.append(f"  {_q(key)}:")
        if deps or links:
            lines.append(f"    {section}:")
        for n, r, v in sorted(deps):
            lines.extend(
                [f"      {_q(n)}:", f"        specifier: {_q(r)}", f"        version: {v}"]
            )
        for n in links:
            target = "../" + n.rsplit("/", 1)[-1]
            lines.extend(
                [
                    f"      {_q(n)}:",
                    "        specifier: workspace:*",
                    f"        version: link:{target}",
                ]
            )
        lines.append("")

    importer(".", "devDependencies", graph.root_dev, [])
    for ws in graph.workspaces:
        importer(ws.folder, "dependencies", ws.deps, ws.workspace_deps)
    pkgs = sorted(_all_pkgs(graph), key=lambda p: (p.name, p.version))
    lines += ["packages:", ""]
    for pkg in pkgs:
        lines += [
            f"  {_q(pkg.name + '@' + pkg.version)}:",
            f"    resolution: {{integrity: {_integrity(pkg.name, pkg.version)}}}",
            "",
        ]
    lines += ["snapshots:", ""]
    for pkg in pkgs:
        key = _q(pkg.name + "@" + pkg.version)
        if not pkg.deps:
            lines += [f"  {key}: {{}}", ""]
            continue
        lines += [f"  {key}:", "    dependencies:"]
        lines += [f"      {_q(n)}: {v}" for n, _, v in pkg.deps]
        lines.append("")
    path = out / "pnpm-lock.yaml"
    path.write_text("\n".join(lines))
    return path


WRITERS = {"npm": write_npm, "yarn": write_yarn, "pnpm": write_pnpm}


def generate(out: Path, entries: int, formats: tuple[str, ...] = FORMATS) -> dict[str, Path]:
    """``out/<format>-<entries>/`` for each format; returns the lockfile paths."""
    graph = build_graph(entries)
    return {f: WRITERS[f](graph, out / f"{f}-{entries}") for f in formats}


def generate_chain(out: Path, depth: int, formats: tuple[str, ...] = FORMATS) -> dict[str, Path]:
    graph = chain_graph(depth)
    return {f: WRITERS[f](graph, out / f"{f}-chain-{depth}") for f in formats}


# --- the benchmark ------------------------------------------------------------------------


def exponent(points: list[tuple[int, float]]) -> float:
    """The least-squares slope of log(cost) over log(size): 1 is linear, 2 quadratic."""
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(max(c, 1e-9)) for _, c in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def bench(out: Path, sizes: list[int], formats: list[str], chain: int | None, runs: int = 1) -> str:
    """Generate what is missing under ``out``, run ``depaudit scan`` (offline, no registry)
    on every lockfile ``runs`` times (rounds over every lockfile, sizes interleaved across
    formats), and return Markdown tables of the least time and the largest peak."""
    from benchmarks.measure import compile_sources, run_process

    compile_sources()

    cases: list[tuple[str, int, Path]] = []
    for n in sizes:
        for f in formats:
            lock = out / f"{f}-{n}" / LOCKFILES[f]
            if not lock.exists():
                WRITERS[f](build_graph(n), lock.parent)
            cases.append((f, n, lock))
    if chain:
        for f in formats:
            lock = out / f"{f}-chain-{chain}" / LOCKFILES[f]
            if not lock.exists():
                WRITERS[f](chain_graph(chain), lock.parent)
            cases.append((f, -chain, lock))
    rows: dict[tuple[str, int], tuple[float, float, float, int]] = {}
    for round_ in range(runs):
        for f, n, lock in cases:
            cache = out / "cache"
            shutil.rmtree(cache, ignore_errors=True)
            argv = [sys.executable, "-m", "depaudit", "scan", "--lockfile", str(lock)]
            argv += ["--format", "json", "--no-registry", "--offline", "--no-npm"]
            argv += ["--cache-dir", str(cache)]
            run = run_process(argv, cwd=out)
            if run.returncode != 0:  # (a failed scan's time is not the scan's)
                raise SystemExit(f"{f} {n}: the scan exited {run.returncode}")
            got = (run.seconds, run.cpu_seconds, run.peak_rss_mb, len(run.stdout))
            if round_:  # the least time of the runs (what the scan costs when nothing else
                # interferes), the largest peak
                old = rows[(f, n)]
                got = (min(old[0], got[0]), min(old[1], got[1]), max(old[2], got[2]), got[3])
            rows[(f, n)] = got
            print(
                f"{f} {n} run {round_ + 1}: {run.seconds:.2f} s wall, {run.cpu_seconds:.2f} s "
                f"CPU, {run.peak_rss_mb:.0f} MiB, exit {run.returncode}",
                file=sys.stderr,
            )
    lines = [
        "| lockfile | entries | wall | CPU | peak RSS | report |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for (f, n), (wall, cpu, rss, size) in rows.items():
        what = f"chain {-n} deep" if n < 0 else f"{n:,}"
        lines.append(
            f"| {f} | {what} | {wall:.2f} s | {cpu:.2f} s | {rss:.0f} MiB | {size / 1e6:.1f} MB |"
        )
    lines += [
        "",
        "| lockfile | exponent of CPU time, 5k to largest | of peak RSS |",
        "|---|---:|---:|",
    ]
    for f in formats:
        points = [(n, rows[(f, n)]) for n in sizes if n >= 5000]
        if len(points) >= 2:
            cpu_exp = exponent([(n, r[1]) for n, r in points])
            rss_exp = exponent([(n, r[2]) for n, r in points])
            lines.append(f"| {f} | {cpu_exp:.2f} | {rss_exp:.2f} |")
    return "\n".join(lines)


LOCKFILES = {"npm": "package-lock.json", "yarn": "yarn.lock", "pnpm": "pnpm-lock.yaml"}


def bench_pairs(out: Path, sizes: list[int], formats: list[str], pairs: int, before: Path) -> str:
    """This checkout against ``before`` (another checkout's ``src``, ``git worktree add``) on
    the same lockfiles: ``pairs`` pairs each, the two back to back, the order alternating;
    the CPU ratio of each pair, its median, and each side's median. On a shared machine the
    speed drifts by a quarter within minutes: a pair sees about the same speed."""
    import os
    import statistics

    from benchmarks.measure import compile_sources, run_process

    compile_sources()
    compile_sources(before)
    lines = [
        f"{pairs} pairs per lockfile; before = {before}",
        "",
        "| lockfile | entries | after CPU (median) | before CPU (median) "
        "| after/before (median of pairs, range) | after peak RSS |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for n in sizes:
        for f in formats:
            lock = out / f"{f}-{n}" / LOCKFILES[f]
            if not lock.exists():
                WRITERS[f](build_graph(n), lock.parent)
            argv = [sys.executable, "-m", "depaudit", "scan", "--lockfile", str(lock)]
            argv += ["--format", "json", "--no-registry", "--offline", "--no-npm"]
            argv += ["--cache-dir", str(out / "cache")]
            old_env = dict(os.environ, PYTHONPATH=str(before.resolve()))
            after_cpu, before_cpu, ratios, rss = [], [], [], []
            for i in range(pairs):
                got = {}
                for side in ("after", "before") if i % 2 == 0 else ("before", "after"):
                    shutil.rmtree(out / "cache", ignore_errors=True)
                    env = old_env if side == "before" else None
                    got[side] = run_process(argv, cwd=out, env=env)
                    if got[side].returncode != 0:
                        raise SystemExit(f"{side} {f} {n}: exit {got[side].returncode}")
                after_cpu.append(got["after"].cpu_seconds)
                before_cpu.append(got["before"].cpu_seconds)
                ratios.append(got["after"].cpu_seconds / got["before"].cpu_seconds)
                rss.append(got["after"].peak_rss_mb)
                print(
                    f"{f} {n} pair {i + 1}: after {after_cpu[-1]:.2f} s, before "
                    f"{before_cpu[-1]:.2f} s CPU",
                    file=sys.stderr,
                )
            lines.append(
                f"| {f} | {n:,} | {statistics.median(after_cpu):.2f} s | "
                f"{statistics.median(before_cpu):.2f} s | {statistics.median(ratios):.2f} "
                f"({min(ratios):.2f}-{max(ratios):.2f}) | {max(rss):.0f} MiB |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--entries", type=int, nargs="*", default=list(LADDER))
    parser.add_argument("--chain", type=int, help="write one chain this deep instead")
    parser.add_argument("--formats", nargs="*", default=list(FORMATS), choices=FORMATS)
    parser.add_argument(
        "--bench", action="store_true", help="scan every size once and print the tables"
    )
    parser.add_argument(
        "--runs", type=int, default=1, help="with --bench: runs of each (the least time kept)"
    )
    parser.add_argument("--pairs", type=int, help="with --before: pairs per lockfile")
    parser.add_argument("--before", type=Path, help="src folder of another checkout")
    args = parser.parse_args(argv)
    args.out = args.out.resolve()  # (the scans run in it: a relative path would not be found)
    if args.before is not None:
        print(bench_pairs(args.out, args.entries, args.formats, args.pairs or 3, args.before))
        return 0
    if args.bench:
        print(bench(args.out, args.entries, args.formats, args.chain, args.runs))
        return 0
    if args.chain:
        made = generate_chain(args.out, args.chain, tuple(args.formats))
    else:
        made = {}
        for n in args.entries:
            for f, p in generate(args.out, n, tuple(args.formats)).items():
                made[f"{f}-{n}"] = p
    for key, path in made.items():
        print(f"{key}\t{path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
