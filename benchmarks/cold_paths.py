"""The cold fetch's two paths give the same report: ``python -m benchmarks.cold_paths``.

A check, not a timing. A cold scan of a big tree fetches and decodes its packuments in fetch
worker processes (``services/fetch_worker.py``); a small one, or a scan whose workers could not
start, fetches them in the scan's own process. Both must give the same facts. The hermetic
tests hold them together on loopback fixtures (``tests/services/test_registry.py``); this runs
both against the registry npm is configured with, on every real lockfile of the corpus
(``tests/corpus/real``) or the ``--targets`` named: for each, one cold ``depaudit scan --format
json`` as it runs, then one with every fetch in the scan's process (``RegistryService`` made
with ``decode_process=False``, by this module's ``in-process`` entry), each with an empty cache
folder, and compares the two JSON reports.

Ages (``age_days``, ``days_since_release``) are counted from each scan's own clock, so the
second scan's may be larger by the seconds between them: a difference of at most
``--age-slack`` days in those two fields is not reported, nor the report's ``generated_at``.
Anything else that differs is printed, with its path in the report, and the exit status is 1.

With ``--installed``, each npm lockfile of version 2 or 3 has its ``node_modules`` laid out
(``benchmarks/workdir.materialize``) and the folder is scanned, as a user's installed project
is: the tree from ``npm ls``, the fetch begun while it runs. Other lockfiles are skipped.

With ``--sources`` (which implies ``--installed``), the two scans of each such project are
instead one of the folder (the tree from ``npm ls``) and one of its lockfile alone
(``--lockfile ... --no-npm``), both as they run, each with an empty cache folder:
``node_modules`` is laid out exactly as the lockfile says, so whatever differs but the report's
``source`` is how the two readers of one tree disagree. That is what reading
npm's hidden lockfile in place of ``npm ls`` (the slowest part of a scan of an installed
project: benchmarks/README.md) would change.

``python -m benchmarks.cold_paths [--targets NAME ...] [--age-slack DAYS] [--installed]
[--sources]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.cold_scan import CORPUS, WORK, depaudit_argv
from benchmarks.lockinfo import NPM_LOCK_NAMES
from benchmarks.measure import compile_sources
from benchmarks.workdir import materialize
from depaudit.sources import LOCKFILE_NAMES

HERE = Path(__file__).resolve().parent
AGES = frozenset({"age_days", "days_since_release"})
#: the report's own time of writing, which always differs
WRITTEN = "generated_at"
#: what the report says it read (``--sources``: npm ls and the lockfile, or the lockfile)
SOURCE = "source"


def in_process(argv: list[str]) -> None:
    """``depaudit`` with ``argv``, every registry fetch in this process (no fetch workers, no
    decoding workers)."""
    import runpy

    from depaudit.services import registry

    made = registry.RegistryService.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs["decode_process"] = False
        made(self, *args, **kwargs)

    registry.RegistryService.__init__ = init  # type: ignore[method-assign]
    sys.argv = ["depaudit", *argv]
    runpy.run_module("depaudit", run_name="__main__")


def differences(
    ours: Any,
    theirs: Any,
    slack: float,
    path: str = "",
    found: list[str] | None = None,
    aside: frozenset[str] = frozenset({WRITTEN}),
) -> list[str]:
    """Where two decoded reports differ (ages within ``slack`` days, and the top-level keys
    ``aside``, not compared), as paths."""
    found = [] if found is None else found
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in sorted(ours.keys() | theirs.keys()):
            if key in aside and not path:
                continue
            if key not in ours or key not in theirs:
                found.append(f"{path}.{key}: in one report only")
                continue
            a, b = ours[key], theirs[key]
            if key in AGES and isinstance(a, int | float) and isinstance(b, int | float):
                if abs(a - b) > slack:
                    found.append(f"{path}.{key}: {a} against {b}")
                continue
            differences(a, b, slack, f"{path}.{key}", found, aside)
    elif isinstance(ours, list) and isinstance(theirs, list):
        if len(ours) != len(theirs):
            found.append(f"{path}: {len(ours)} items against {len(theirs)}")
        else:
            for index, (a, b) in enumerate(zip(ours, theirs, strict=True)):
                differences(a, b, slack, f"{path}[{index}]", found, aside)
    elif ours != theirs:
        found.append(f"{path}: {str(ours)[:80]!r} against {str(theirs)[:80]!r}")
    return found


def shown(found: list[str], each: int = 4) -> list[str]:
    """The differences by the report's top-level key: how many, and the first ``each``."""
    by_key: dict[str, list[str]] = {}
    for line in found:
        by_key.setdefault(line.split(":", 1)[0].split("[", 1)[0].split(".")[1], []).append(line)
    lines = []
    for key, group in by_key.items():
        lines.append(f"{key}: {len(group)}")
        lines += [f"  {line}" for line in group[:each]]
    return lines


def scan(argv: list[str], project: Path) -> dict[str, Any]:
    env = dict(os.environ, npm_config_update_notifier="false")
    # (the in-process scan is this module run from the project's folder)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(HERE.parent), str(HERE.parent / "src"), env.get("PYTHONPATH")])
    )
    done = subprocess.run(argv, cwd=project, env=env, capture_output=True)
    if done.returncode not in (0, 1):  # 1: suspects found
        sys.exit(f"the scan failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def main() -> int:
    if sys.argv[1:2] == ["in-process"]:
        in_process(sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", nargs="*", help="corpus folders (default: every one)")
    parser.add_argument("--age-slack", type=float, default=0.02)
    parser.add_argument(
        "--installed", action="store_true", help="node_modules laid out, the folder scanned"
    )
    parser.add_argument(
        "--sources",
        action="store_true",
        help="node_modules laid out; the folder (npm ls) against the lockfile alone",
    )
    args = parser.parse_args()
    args.installed = args.installed or args.sources
    compile_sources(HERE.parent / "src")
    targets = args.targets or sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
    scratch = Path(tempfile.mkdtemp(prefix="cold-paths-", dir=WORK))
    differing = 0
    try:
        for target in targets:
            project = WORK / "cold_paths" / target  # (every file: workspaces' too)
            shutil.rmtree(project, ignore_errors=True)
            shutil.copytree(CORPUS / target, project, ignore=shutil.ignore_patterns("node_modules"))
            # (the first that a scan of the folder would look for)
            lock = next((project / n for n in LOCKFILE_NAMES if (project / n).is_file()), None)
            if lock is None:
                print(f"{target}: no lockfile")
                continue
            # (materialize lays out nothing from a v1 lockfile)
            if args.installed and (
                lock.name not in NPM_LOCK_NAMES or materialize(project, lock) == 0
            ):
                print(f"{target}: skipped (not an npm lockfile of version 2 or 3)")
                continue
            aside = frozenset({WRITTEN})
            if args.sources:  # the folder (npm ls), then the lockfile alone
                first = depaudit_argv(project, None, scratch / "workers", None)
                second = depaudit_argv(lock, None, scratch / "here", None)
                aside |= {SOURCE}
            else:
                if args.installed:  # (depaudit_argv: a folder is scanned with npm ls)
                    lock = project
                first = depaudit_argv(lock, None, scratch / "workers", None)
                second = depaudit_argv(lock, None, scratch / "here", None)
                second[1:3] = ["-m", "benchmarks.cold_paths", "in-process"]
            ours, theirs = scan(first, project), scan(second, project)
            shutil.rmtree(scratch / "workers", ignore_errors=True)
            shutil.rmtree(scratch / "here", ignore_errors=True)
            found = differences(ours, theirs, args.age_slack, aside=aside)
            packages = len(ours.get("packages", []))
            if found:
                differing += 1
                print(f"{target}: {packages} packages, {len(found)} differences:")
                for line in shown(found):
                    print(f"  {line}")
            else:
                print(f"{target}: {packages} packages, the same report", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
