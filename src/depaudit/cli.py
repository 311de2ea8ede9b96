"""The command line: the only module that prints the report, picks exit codes and catches
DepauditError."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

from depaudit import __version__, gcpause
from depaudit.audit import Clock, build_report, utc_now
from depaudit.cache import Cache, parse_ttl
from depaudit.code.command import add_code_parser, run_code
from depaudit.config import (
    FAIL_ON_CHOICES,
    Settings,
    env_bool,
    env_choice,
    env_default,
    env_name,
    env_value,
    find_config,
    load_config,
    positive_int,
    positive_seconds,
)
from depaudit.diff import diff_reports, load_pair, render_diff
from depaudit.errors import DepauditError, ExitCode, InputError, ServiceError, UsageError
from depaudit.formats.interface import FormatName, get_format
from depaudit.github.commands import add_github_parser, run_github
from depaudit.github_client import GitHubClient, api_url_from_env, find_token
from depaudit.ignore import apply_ignores, parse_ignores
from depaudit.models import Report, Tier
from depaudit.scoring import at_or_above
from depaudit.scoring.rank import render_explanation
from depaudit.services.github_advisories import build_github_service
from depaudit.sources.loader import load_tree
from depaudit.text import terminal_safe

PROG = "depaudit"

DESCRIPTION = (
    "Find the npm dependencies most likely to leak memory or hold resources: "
    "read the dependency tree, learn what the registry, advisories and the bundled knowledge "
    "base say about every package, and rank the leak suspects, with the reasons."
)

EXIT_CODES_HELP = """exit codes:
  0  success (nothing at or above --fail-on)
  1  suspects at or above --fail-on
  2  usage, input or configuration error (one line on stderr, nothing written)
  3  a required service failed under --strict
  4  internal error (traceback only with --debug)
  130 interrupted
"""


class _Parser(argparse.ArgumentParser):
    """argparse with a usage error in one line (``depaudit scan: error: ...``), exit 2."""

    def error(self, message: str) -> NoReturn:
        line = f"{self.prog}: error: {message} (hint: {self.prog} --help)"
        self.exit(ExitCode.INPUT, terminal_safe(" ".join(line.split())) + "\n")


def _finish(parser: argparse.ArgumentParser, top: bool = True) -> None:
    """For ``parser`` and every subcommand below it: ``--help`` shows a default only where
    there is one (no ``default: None`` / ``default: False``), and every subcommand also takes
    ``--debug`` after its name."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in {id(p): p for p in action.choices.values()}.values():
                _finish(sub, top=False)
        elif action.help and "%(default)s" in action.help:
            if action.default is None or action.default is False:
                action.help = action.help.replace("; default: %(default)s", "")
            elif action.default is True:  # a store_true flag its DEPAUDIT_* twin turned on
                action.help = action.help.replace("default: %(default)s", "default: on")
    if not top:
        parser.add_argument(
            "--debug",
            action="store_true",
            default=argparse.SUPPRESS,  # not given here: the top-level --debug decides
            help=argparse.SUPPRESS,
        )


def _help(text: str, flag: str) -> str:
    """Help text that names the flag's environment twin and shows the default."""
    return f"{text} (env {env_name(flag)}; default: %(default)s)"


def _add_input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "directory",
        nargs="?",
        default=env_value("--directory"),  # None: "." (told apart from an explicit DIR)
        metavar="DIR",
        help=f"project folder to scan (env {env_name('--directory')}; default: .)",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--lockfile",
        metavar="FILE",
        default=env_value("--lockfile"),
        help=_help(
            "read this lockfile (package-lock.json, npm-shrinkwrap.json, yarn.lock, "
            "pnpm-lock.yaml or bun.lock)",
            "--lockfile",
        ),
    )
    source.add_argument(
        "--npm-ls",
        metavar="FILE",
        default=env_value("--npm-ls"),
        help=_help(
            "read saved `npm ls --all --long --json` output from FILE ('-' for stdin; "
            "without --long dev and optional flags are unknown)",
            "--npm-ls",
        ),
    )
    parser.add_argument(
        "--no-npm",
        action="store_true",
        default=env_bool("--no-npm", False),
        help=_help("never run `npm ls` in DIR, even when node_modules exists", "--no-npm"),
    )
    parser.add_argument(
        "--npm-timeout",
        type=positive_seconds,
        metavar="SECONDS",
        default=env_default("--npm-timeout", positive_seconds, 120.0),
        help=_help("time limit for `npm ls`", "--npm-timeout"),
    )


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=[f.value for f in FormatName],
        default=env_choice("--format", [f.value for f in FormatName], FormatName.TABLE.value),
        help=_help("report format", "--format"),
    )
    parser.add_argument(
        "--output",
        metavar="FILE",
        default=env_value("--output"),
        help=_help("write the report to FILE (atomically, after success)", "--output"),
    )


def _add_policy_options(parser: argparse.ArgumentParser, *, fail_on: bool = True) -> None:
    group = parser.add_argument_group("CI policy")
    if fail_on:
        group.add_argument(
            "--fail-on",
            choices=FAIL_ON_CHOICES,
            default=env_choice("--fail-on", FAIL_ON_CHOICES, None),
            help=f"exit 1 when a suspect is at or above this tier (env {env_name('--fail-on')}; "
            "default: fail-on in the config file, else never)",
        )
    group.add_argument(
        "--config",
        metavar="FILE",
        default=env_value("--config"),
        help=f"config file with [[ignore]] entries and fail-on (env {env_name('--config')}; "
        "default: .depaudit.toml in DIR when present)",
    )


def _add_registry_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("registry, cache and offline use")
    group.add_argument(
        "--registry",
        metavar="URL",
        default=env_value("--registry"),
        help=_help("npm registry base URL (otherwise npm's configuration)", "--registry"),
    )
    group.add_argument(
        "--no-registry",
        action="store_true",
        default=env_bool("--no-registry", False),
        help=_help("do not consult the npm registry (tree checks only)", "--no-registry"),
    )
    group.add_argument(
        "--offline",
        action="store_true",
        default=env_bool("--offline", False),
        help=_help("no network: use only the cache and bundled data", "--offline"),
    )
    group.add_argument(
        "--no-cache",
        action="store_true",
        default=env_bool("--no-cache", False),
        help=_help("neither read nor write the cache", "--no-cache"),
    )
    _add_cache_dir_option(group)
    group.add_argument(
        "--cache-ttl",
        metavar="SECONDS|1d",
        default=env_default("--cache-ttl", _ttl_text, "1d"),
        help=_help("age after which cached facts are revalidated (s, m, h, d, w)", "--cache-ttl"),
    )
    group.add_argument(
        "--jobs",
        type=positive_int,
        metavar="N",
        default=env_default("--jobs", positive_int, 8),
        help=_help("concurrent registry requests", "--jobs"),
    )
    group.add_argument(
        "--strict",
        action="store_true",
        default=env_bool("--strict", False),
        help=_help("exit 3 when the registry could not be used at all", "--strict"),
    )
    _add_advisory_options(group)


def _ttl_text(text: str) -> str:
    parse_ttl(text)  # raises ValueError
    return text


def _add_advisory_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    _add_github_api_option(parser)
    parser.add_argument(
        "--no-advisories",
        action="store_true",
        default=env_bool("--no-advisories", False),
        help=_help(
            "skip npm and GitHub advisories (the knowledge base is still used)", "--no-advisories"
        ),
    )


def _add_github_api_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--github-api-url",
        metavar="URL",
        default=env_value("--github-api-url"),
        help="GitHub REST API for advisories, e.g. GitHub Enterprise (env "
        f"{env_name('--github-api-url')}; default: $GITHUB_API_URL, else the public API)",
    )


def _add_db_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = commands.add_parser(
        "db",
        help="fetch GitHub's leak and exhaustion advisories into the cache",
        description="update: fetch every npm advisory in the leak and exhaustion CWEs from "
        "the GitHub Advisory Database (all pages) into the cache, for --offline runs.",
    )
    db.add_argument("action", choices=["update"], help="what to do")
    _add_cache_dir_option(db)
    _add_github_api_option(db)  # not --no-advisories: db update fetches nothing else


def run_db(args: argparse.Namespace) -> int:
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


def _add_cache_dir_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--cache-dir",
        metavar="DIR",
        default=env_value("--cache-dir"),
        help=_help("cache folder (default: the user cache folder)", "--cache-dir"),
    )


def _add_cache_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cache = commands.add_parser(
        "cache",
        help="show or clear depaudit's cache",
        description="Show where depaudit caches registry and advisory facts, or clear it.",
    )
    cache.add_argument("action", choices=["info", "clear"], help="what to do")
    _add_cache_dir_option(cache)


def run_cache(args: argparse.Namespace) -> int:
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
    parser: argparse.ArgumentParser = _Parser(
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
        help=_help("show tracebacks for internal errors", "--debug"),
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
    _add_input_options(scan)
    _add_output_options(scan)
    _add_registry_options(scan)
    _add_policy_options(scan)
    explain = commands.add_parser(
        "explain",
        help="every signal, its points and its evidence for one package",
        description="Score one package of the tree of DIR and show every signal behind it.",
    )
    explain.add_argument("package", metavar="PKG[@VERSION]", help="package to explain")
    _add_input_options(explain)
    _add_registry_options(explain)
    _add_policy_options(explain, fail_on=False)  # explain always exits 0
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
        help=_help("read BASE with `git show REF:<HEAD's path>`", "--base-ref"),
    )
    diff.add_argument(
        "--format",
        choices=["markdown", "json"],
        default=env_choice("--diff-format", ["markdown", "json"], "markdown"),
        help=_help("diff format", "--diff-format"),
    )
    diff.add_argument(
        "--output",
        metavar="FILE",
        default=env_value("--output"),
        help=_help("write the diff to FILE (atomically, after success)", "--output"),
    )
    _add_registry_options(diff)
    _add_policy_options(diff)
    diff.set_defaults(directory=".", lockfile=None, npm_ls=None, no_npm=True, npm_timeout=120.0)
    add_code_parser(commands)
    _add_cache_parser(commands)
    _add_db_parser(commands)
    add_github_parser(commands)
    _finish(parser)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    if getattr(args, "npm_ls", None) and args.directory is not None:
        raise UsageError(
            f"--npm-ls reads a saved tree, so DIR {args.directory!r} would be ignored",
            "give --npm-ls FILE or DIR, not both (--config names a config file)",
        )
    if args.npm_timeout <= 0:
        raise UsageError("--npm-timeout must be a positive number of seconds")
    try:
        cache_ttl = parse_ttl(args.cache_ttl)
    except ValueError:
        raise UsageError(
            f"--cache-ttl {args.cache_ttl!r} is not a duration", "use seconds or 30m, 12h, 1d"
        ) from None
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    return Settings(
        directory=Path(args.directory or "."),
        lockfile=Path(args.lockfile) if args.lockfile else None,
        npm_ls=args.npm_ls,
        use_npm=not args.no_npm,
        npm_timeout=args.npm_timeout,
        format=args.format,
        output=Path(args.output) if args.output else None,
        debug=args.debug,
        use_registry=not args.no_registry,
        registry=args.registry,
        offline=args.offline,
        use_cache=not args.no_cache,
        cache_dir=Path(args.cache_dir) if args.cache_dir else None,
        cache_ttl=cache_ttl,
        jobs=args.jobs,
        strict=args.strict,
        config=Path(args.config) if args.config else None,
        fail_on=getattr(args, "fail_on", None),
        github_api_url=args.github_api_url or api_url_from_env(os.environ),
        use_advisories=not args.no_advisories,
        github_token=find_token(os.environ),
    )


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename."""
    directory = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError(path, "is a directory", "give --output a file name")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except FileNotFoundError:
        raise InputError(path, "its folder does not exist", "create the folder first") from None
    except OSError as exc:
        raise InputError(path, f"cannot be written ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(path, f"cannot be written ({exc.strerror or exc})") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _policy(settings: Settings) -> tuple[Settings, dict[str, object], str]:
    """Settings with fail-on resolved (flag/env > config file > never), the config, its name."""
    path = find_config(settings.directory, settings.config)
    config = load_config(path)
    if settings.fail_on is None:  # neither the flag nor DEPAUDIT_FAIL_ON: the file decides
        from_file = config.get("fail-on")
        settings = replace(settings, fail_on=from_file if isinstance(from_file, str) else "never")
    return settings, config, str(path) if path else ".depaudit.toml"


def _fails(report: Report, fail_on: str | None, what: str = "suspects") -> bool:
    """Whether a suspect is at or above ``fail_on``; if so, one stderr line names them."""
    if fail_on in (None, "never"):
        return False
    tripped = [s for s in report.suspects if at_or_above(s.tier, Tier(fail_on))]
    if tripped:
        names = ", ".join(f"{s.key} ({s.tier.value}, {s.score:g})" for s in tripped[:10])
        more = f" and {len(tripped) - 10} more" if len(tripped) > 10 else ""
        print(
            terminal_safe(
                f"{PROG}: --fail-on {fail_on}: {len(tripped)} {what} at or above {fail_on}: "
                f"{names}{more}"
            ),
            file=sys.stderr,
        )
    return bool(tripped)


def run_scan(settings: Settings, clock: Clock = utc_now) -> int:
    settings, config, origin = _policy(settings)
    ignores = parse_ignores(config, origin)
    with gcpause.paused():
        tree = load_tree(settings)
    with gcpause.frozen():
        report, registry, scorer = build_report(settings, tree, clock)
        report = apply_ignores(report, ignores, clock().date(), scorer.weights, origin)
        text = get_format(settings.format).render(report)
    if settings.output is not None:
        write_atomically(settings.output, text)
    else:
        sys.stdout.write(text)
    if settings.strict and registry is not None and registry.failed:
        _print_error(
            ServiceError("the npm registry could not be used", "see the warnings in the report")
        )
        return ExitCode.SERVICE
    return ExitCode.SUSPECTS if _fails(report, settings.fail_on) else ExitCode.OK


def run_explain(settings: Settings, spec: str, clock: Clock = utc_now) -> int:
    name, _, version = spec.rpartition("@") if spec.rfind("@") > 0 else (spec, "", "")
    settings, config, origin = _policy(settings)
    ignores = parse_ignores(config, origin)
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
    report, _, scorer = build_report(settings, tree, clock)
    report = apply_ignores(report, ignores, clock().date(), scorer.weights, origin)
    results = scorer.explain(tree, report.problems, report.facts, name, version or None)
    sys.stdout.write(render_explanation(results, report.facts, scorer.weights, report.ignored))
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return ExitCode.OK


def run_diff(args: argparse.Namespace, clock: Clock = utc_now) -> int:
    settings, config, origin = _policy(settings_from_args(args))
    ignores = parse_ignores(config, origin)
    if args.base_ref is not None:
        head = Path(args.head or args.base or "package-lock.json")
        base = None
    else:
        if not args.base or not args.head:
            raise UsageError("diff needs BASE and HEAD lockfiles, or --base-ref REF [HEAD]")
        base, head = Path(args.base), Path(args.head)
    base_tree, head_tree, base_label, head_label = load_pair(base, head, args.base_ref)
    today = clock().date()
    reports = []
    for tree in (base_tree, head_tree):
        report, _, scorer = build_report(settings, tree, clock)
        reports.append(apply_ignores(report, ignores, today, scorer.weights, origin))
    result = diff_reports(reports[0], reports[1], base_label, head_label)
    text = render_diff(result, args.format)
    if settings.output is not None:
        write_atomically(settings.output, text)
    else:
        sys.stdout.write(text)
    new_or_worse = Report(
        tool_version=__version__,
        generated_at=clock(),
        tree=head_tree,
        problems=(),
        suspects=tuple(c.suspect for c in result.suspects if c.kind in ("new", "worse")),
    )
    failed = _fails(new_or_worse, settings.fail_on, "new or worse suspects")
    return ExitCode.SUSPECTS if failed else ExitCode.OK


def _print_error(error: DepauditError) -> None:
    line = f"{PROG}: error: {error.message}"
    if error.hint:
        line += f" (hint: {error.hint})"
    print(terminal_safe(line), file=sys.stderr)  # one line, no escapes from hostile input


def main(argv: Sequence[str] | None = None, clock: Clock | None = None) -> int:
    debug = False
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        debug = bool(args.debug)
        if args.command is None:
            parser.print_help(sys.stderr)
            return ExitCode.INPUT
        if args.command == "github":
            return run_github(args)
        if args.command == "cache":
            return run_cache(args)
        if args.command == "db":
            return run_db(args)
        if args.command == "code":
            return run_code(args)
        now = clock or utc_now
        if args.command == "explain":
            return run_explain(settings_from_args(args), args.package, now)
        if args.command == "diff":
            return run_diff(args, now)
        return run_scan(settings_from_args(args), now)
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        return int(exc.code) if isinstance(exc.code, int) else ExitCode.INPUT
    except DepauditError as error:
        _print_error(error)
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
