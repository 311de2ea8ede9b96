"""``depaudit heap SNAPSHOT [SNAPSHOT…]``: cli.py adds the sub-command with
:func:`add_heap_parser` and hands the parsed arguments to :func:`run_heap`. numpy and numba
are imported only when the command runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from depaudit.errors import ExitCode, UsageError

PROFILE_SUFFIXES = (".heapprofile", ".heapprofile.gz")


def add_heap_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    heap = commands.add_parser(
        "heap",
        help="which packages and lines of the app hold the heap growth between V8 snapshots",
        description="Read heap snapshots of one process (oldest first; .heapsnapshot or "
        ".heapsnapshot.gz): the objects allocated after the first and still there in the last "
        "(with three or more: still there in every later one) are attributed to their owner, "
        "the package placement or the line of the app whose code holds them on the retainer "
        "path from the GC roots. One snapshot: the retained size per owner. One sampling heap "
        "profile (.heapprofile, from node --heap-prof): the sampled live bytes per owner.",
    )
    heap.add_argument(
        "snapshots",
        nargs="+",
        metavar="SNAPSHOT",
        help="heap snapshots of one process, oldest first (or one .heapprofile)",
    )
    heap.add_argument(
        "--tree",
        metavar="DIR",
        type=Path,
        default=None,
        help="the project folder: versions of the packages from its lockfile or node_modules, "
        "the app's files relative to it, and the line that adds to a growing variable",
    )
    heap.add_argument(
        "--format",
        choices=["table", "json", "markdown"],
        default="table",
        help="report format (default: %(default)s)",
    )
    heap.add_argument(
        "--min-bytes",
        type=_non_negative,
        default=None,
        metavar="N",
        help="noise floor: owners that grew less are left out (default: 65536 for growth, 0 "
        "for one snapshot or a profile)",
    )


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def is_profile(path: str) -> bool:
    return path.endswith(PROFILE_SUFFIXES)


def run_heap(args: argparse.Namespace) -> int:
    from depaudit.heap.render import render

    paths: list[str] = list(args.snapshots)
    tree: Path | None = args.tree
    if tree is not None and not tree.is_dir():
        raise UsageError(f"--tree {tree}: not a folder")
    if any(is_profile(p) for p in paths):
        if len(paths) != 1:
            raise UsageError(
                "a .heapprofile is read on its own: give one profile, or heap snapshots only"
            )
        from depaudit.heap.profile import analyze_profile

        result = analyze_profile(paths[0], tree, args.min_bytes)
    else:
        from depaudit.heap.analysis import analyze
        from depaudit.heap.snapshot import stderr_progress

        result = analyze(paths, tree, args.min_bytes, progress=stderr_progress)
    sys.stdout.write(render(result, args.format))
    for warning in result.warnings:
        if args.format != "table":
            print(f"warning: {warning}", file=sys.stderr)
    return ExitCode.OK
