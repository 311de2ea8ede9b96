"""The command line: the only module that prints the report, picks exit codes and catches
DepauditError."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from depaudit import __version__, gcpause
from depaudit.code.command import add_code_parser, run_code
from depaudit.config import Settings, env_bool, env_choice, env_value
from depaudit.errors import DepauditError, ExitCode, ServiceError, UsageError, print_error
from depaudit.formats.interface import FormatName
from depaudit.github.commands import add_github_parser, run_github
from depaudit.heap.command import add_heap_parser, run_heap
from depaudit.options import (
    DESCRIPTION,
    EXIT_CODES_HELP,
    PROG,
    Parser,
    add_cache_dir_option,
    add_code_option,
    add_entry_option,
    add_github_api_option,
    add_heap_options,
    add_input_options,
    add_output_options,
    add_policy_options,
    add_registry_options,
    finish,
    help_text,
    settings_from_args,
)
from depaudit.text import split_name_spec

# The scan machinery (models, sources, tree, scoring, services, formats) is imported by the
# commands that run it: `depaudit --help`, `code`, `heap` and `github` do not load it.
if TYPE_CHECKING:
    from depaudit.app import Scan
    from depaudit.audit import Clock
    from depaudit.diff import TreeDiff

__all__ = ["build_parser", "main", "settings_from_args"]


def diff_fails(result: TreeDiff, head: Scan) -> bool:
    """Suspects new or worse in HEAD at or above fail-on."""
    from depaudit.app import fails
    from depaudit.models import Report

    new_or_worse = Report(
        tool_version=__version__,
        generated_at=head.report.generated_at,
        tree=head.tree,
        problems=(),
        suspects=tuple(c.suspect for c in result.suspects if c.kind in ("new", "worse")),
        findings=result.new_findings,
    )
    return fails(new_or_worse, head.settings.fail_on, "new or worse suspects")


def _add_db_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = commands.add_parser(
        "db",
        help="fetch GitHub's leak and exhaustion advisories into the cache",
        description="update: fetch every npm advisory in the leak and exhaustion CWEs from "
        "the GitHub Advisory Database (all pages) into the cache, for --offline runs.",
    )
    db.add_argument("action", choices=["update"], help="what to do")
    add_cache_dir_option(db)
    add_github_api_option(db)  # not --no-advisories: db update fetches nothing else


def run_db(args: argparse.Namespace) -> int:
    from depaudit.cache import Cache
    from depaudit.github_client import GitHubClient, api_url_from_env, find_token
    from depaudit.services.github_advisories import build_github_service

    store = Cache(Path(args.cache_dir) if args.cache_dir else None)
    api_url = args.github_api_url or api_url_from_env(os.environ)
    service = build_github_service(store, GitHubClient(find_token(os.environ), api_url))
    count, warnings = service.update_snapshot()
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    store.close()
    if count == 0 and warnings:
        raise ServiceError("GitHub advisories could not be fetched", "see the warning above")
    print(f"stored {count} npm advisories in the leak and exhaustion CWEs in {store.directory}")
    return ExitCode.OK


def _add_cache_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cache = commands.add_parser(
        "cache",
        help="show or clear depaudit's cache",
        description="Show where depaudit caches registry and advisory facts, or clear it.",
    )
    cache.add_argument("action", choices=["info", "clear"], help="what to do")
    add_cache_dir_option(cache)


def run_cache(args: argparse.Namespace) -> int:
    from depaudit.cache import Cache

    store = Cache(Path(args.cache_dir) if args.cache_dir else None)
    if args.action == "clear":
        removed = store.clear()
        print(f"removed {removed} entries from {store.directory}")
        return ExitCode.OK
    info = store.info()
    print(f"location: {info.location}")
    print(f"size: {info.size_bytes} bytes")
    if info.entries:
        for namespace, count in info.entries.items():
            print(f"{namespace}: {count} entries")
    else:
        print("entries: 0")
    for warning in store.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    store.close()
    return ExitCode.OK


def build_parser() -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = Parser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        default=env_bool("--debug", False),
        help=help_text("show tracebacks for internal errors", "--debug"),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    scan = commands.add_parser(
        "scan",
        help="rank the leak suspects of a project and report its tree problems",
        description="Read the dependency tree of DIR (or --lockfile / --npm-ls), rank the "
        "packages most likely to leak memory or hold resources, and report every tree problem.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_input_options(scan)
    add_code_option(scan)
    add_heap_options(scan)
    add_output_options(scan)
    add_registry_options(scan)
    add_policy_options(scan)
    explain = commands.add_parser(
        "explain",
        help="every signal, its points and its evidence for one package",
        description="Score one package of the tree of DIR and show every signal behind it.",
    )
    explain.add_argument("package", metavar="PKG[@VERSION]", help="package to explain")
    add_input_options(explain)
    add_entry_option(explain)
    add_registry_options(explain)
    add_policy_options(explain, fail_on=False)  # explain always exits 0
    explain.set_defaults(format=FormatName.TABLE.value, output=None)
    diff = commands.add_parser(
        "diff",
        help="packages and suspects that changed between two lockfiles",
        description="Compare BASE and HEAD lockfiles (or HEAD with its version at git "
        "--base-ref REF): packages added, removed, up- or downgraded, and suspects new or worse "
        "in HEAD. Markdown for a PR comment.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    diff.add_argument("base", nargs="?", metavar="BASE", help="base lockfile")
    diff.add_argument("head", nargs="?", metavar="HEAD", help="head lockfile")
    diff.add_argument(
        "--base-ref",
        metavar="REF",
        default=env_value("--base-ref"),
        help=help_text("read BASE with `git show REF:<HEAD's path>`", "--base-ref"),
    )
    diff.add_argument(
        "--format",
        choices=["markdown", "json"],
        default=env_choice("--diff-format", ["markdown", "json"], "markdown"),
        help=help_text("diff format", "--diff-format"),
    )
    diff.add_argument(
        "--output",
        metavar="FILE",
        default=env_value("--output"),
        help=help_text("write the diff to FILE (atomically, after success)", "--output"),
    )
    diff.add_argument(
        "--no-code",
        action="store_true",
        default=env_bool("--no-code", False),
        help=help_text(
            "with --base-ref, do not report the code rules' new findings (depaudit code)",
            "--no-code",
        ),
    )
    add_registry_options(diff)
    add_policy_options(diff)
    diff.set_defaults(directory=".", lockfile=None, npm_ls=None, no_npm=True, npm_timeout=120.0)
    add_code_parser(commands)
    _add_cache_parser(commands)
    _add_db_parser(commands)
    add_github_parser(commands)
    add_heap_parser(commands)
    finish(parser)
    return parser


def run_scan(settings: Settings, clock: Clock | None = None) -> int:
    asked = None
    if settings.online_registry:  # (npm's configuration is read for the registry alone)
        from depaudit.npmrc import query_for

        asked = query_for(settings)  # npm's answer, if the registry is npm's to say: first
    with asked or contextlib.nullcontext():
        from depaudit.app import exit_code, scan
        from depaudit.audit import utc_now
        from depaudit.cache import closing_behind
        from depaudit.formats.registry import get_format
        from depaudit.output import emit

        # one scan, then the process ends: every stage allocates mostly acyclic objects (freed
        # by reference counting; the collector's passes over a large tree's heap cost a fifth
        # of a 50,000-entry scan: benchmarks/README.md); the cache closes as the report is written
        with gcpause.paused(keep_out=gcpause.ending), closing_behind():
            result = scan(settings, clock or utc_now, asked=asked, queried=True)
            # the text in pieces, written as they are made: a 50,000-package JSON report is
            # never whole in memory
            chosen = result.settings
            emit(get_format(chosen.format).render_chunks(result.report), chosen.output)
        gcpause.keep(result)  # (the program: freed with the process)
    return exit_code(result)


def run_explain(settings: Settings, spec: str, clock: Clock | None = None) -> int:
    from depaudit.app import policy, scan, with_runtime
    from depaudit.audit import utc_now
    from depaudit.output import emit
    from depaudit.scoring.rank import render_explanation
    from depaudit.sources.loader import load_tree

    name, version = split_name_spec(spec)
    tree = load_tree(settings)
    if not tree.placements(name, version or None):
        where = f"{name}@{version}" if version else name
        installed = sorted({p.version for p in tree.placements(name)}) if version else []
        raise UsageError(
            f"{where} is not in the dependency tree of {tree.source.path}",
            f"the tree has {name} " + ", ".join(installed[:10])
            if installed
            else "give a package name (and version) as the tree has it",
        )
    tree = with_runtime(policy(settings)[0], tree)
    result = scan(settings, clock or utc_now, tree=tree)
    report = result.report
    explained = result.scorer.explain(tree, report.problems, report.facts, name, version or None)
    emit(render_explanation(explained, report.facts, result.scorer.weights, report.ignored), None)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return ExitCode.OK


def run_diff(args: argparse.Namespace, clock: Clock | None = None) -> int:
    from depaudit.app import scan
    from depaudit.audit import utc_now
    from depaudit.cache import Cache
    from depaudit.diff import diff_reports, render_diff
    from depaudit.output import emit
    from depaudit.sources.git_base import load_pair

    settings = settings_from_args(args)
    if args.base_ref is not None:
        head = Path(args.head or args.base or "package-lock.json")
        base = None
    else:
        if not args.base or not args.head:
            raise UsageError("diff needs BASE and HEAD lockfiles, or --base-ref REF [HEAD]")
        base, head = Path(args.base), Path(args.head)
    base_tree, head_tree, base_label, head_label = load_pair(
        base, head, args.base_ref, settings.budget
    )
    clock = clock or utc_now
    base_scan = scan(settings, clock, tree=base_tree)
    head_scan = scan(settings, clock, tree=head_tree)
    result = diff_reports(base_scan.report, head_scan.report, base_label, head_label)
    if args.base_ref is not None and not args.no_code:
        from depaudit.code.changes import new_findings

        cache = Cache(settings.cache_dir, enabled=settings.use_cache)
        try:
            found = new_findings(
                head.resolve().parent, args.base_ref, cache if settings.use_cache else None
            )
        finally:
            cache.close()
        result = dataclasses.replace(result, new_findings=found)
    text = render_diff(result, args.format)
    emit(text, head_scan.settings.output)
    return ExitCode.SUSPECTS if diff_fails(result, head_scan) else ExitCode.OK


def _fast_forms(args: argparse.Namespace) -> None:
    """The bundled data's fast forms live under this run's cache folder (``--cache-dir`` or
    ``DEPAUDIT_CACHE_DIR``); ``--no-cache`` neither reads nor writes them."""
    from depaudit import bundled

    cache_dir = getattr(args, "cache_dir", None)
    bundled.use_fast_forms(
        not getattr(args, "no_cache", False), Path(cache_dir) if cache_dir else None
    )


def run() -> NoReturn:
    """The program (``depaudit``, ``python -m depaudit``): :func:`main`, then the process
    ends without tearing the interpreter down, as :func:`end` says."""
    gcpause.ending = True  # (what a command made need not be collected or freed)
    end(main())


def end(code: int) -> NoReturn:
    """End the process with ``code`` once its output is written. Python's own exit would
    then free the scan's heap object by object and tear its modules down: 0.05-0.06 s of a
    cold theia scan, 0.03 s offline, with nothing left to write (benchmarks/README.md, "The
    scan's end"). What a normal exit does that matters still happens: the streams are
    flushed and the ``atexit`` functions run (weakref finalizers: the TLS bundle's temporary
    file; multiprocessing's workers; logging). Where a thread other than daemons still runs
    (a library's), or a child process of multiprocessing (a process pool's workers: the pool
    is told to end by the ordinary exit's thread shutdown, which ``atexit`` alone does not
    run, and multiprocessing's ``atexit`` function would wait for them for ever), the
    ordinary exit is taken instead."""
    import atexit
    import threading

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: said by main
            if stream is not None:
                stream.flush()
    current = threading.current_thread()
    if any(t is not current and t.is_alive() and not t.daemon for t in threading.enumerate()):
        sys.exit(code)
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is not None and multiprocessing.active_children():
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            if stream is not None:
                stream.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None, clock: Clock | None = None) -> int:
    debug = False
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        debug = bool(args.debug)
        if args.command is None:
            parser.print_help(sys.stderr)
            return ExitCode.INPUT
        if args.command not in ("github", "cache", "db"):
            _fast_forms(args)
        if args.command == "github":
            return run_github(args)
        if args.command == "heap":
            return run_heap(args)
        if args.command == "cache":
            return run_cache(args)
        if args.command == "db":
            return run_db(args)
        if args.command == "code":
            return run_code(args)
        if args.command == "explain":
            return run_explain(settings_from_args(args), args.package, clock)
        if args.command == "diff":
            return run_diff(args, clock)
        return run_scan(settings_from_args(args), clock)
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        return int(exc.code) if isinstance(exc.code, int) else ExitCode.INPUT
    except DepauditError as error:
        print_error(error)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as exc:  # a bug: say so in one line unless --debug
        if debug:
            traceback.print_exc()
        else:
            print(
                f"{PROG}: internal error: {type(exc).__name__}: {exc} "
                "(hint: run again with --debug, before or after the command, for a traceback "
                "and report it)",
                file=sys.stderr,
            )
        return ExitCode.INTERNAL
