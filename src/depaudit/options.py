"""The options of ``scan``, ``explain`` and ``diff`` and how they become :class:`Settings`.

Both ``depaudit.cli`` and the GitHub Action (``depaudit.github.commands``, which parses the
action's ``extra-args`` as ``depaudit scan`` arguments) build their parsers from here, so
neither imports the other.

Why this module is over ~400 lines: it is the one table of the options of ``scan``,
``explain`` and ``diff`` with their ``DEPAUDIT_*`` twins and the Settings they make; each
flag is a few lines of argparse, and two tables would give the CLI and the Action two places
to look.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import NoReturn

from depaudit import budget
from depaudit.config import (
    FAIL_ON_CHOICES,
    Settings,
    env_bool,
    env_choice,
    env_default,
    env_name,
    env_value,
    positive_int,
    positive_seconds,
)
from depaudit.errors import ExitCode, UsageError
from depaudit.formats.interface import FormatName
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


class Parser(argparse.ArgumentParser):
    """argparse with a usage error in one line (``depaudit scan: error: ...``), exit 2."""

    def error(self, message: str) -> NoReturn:
        line = f"{self.prog}: error: {message} (hint: {self.prog} --help)"
        self.exit(ExitCode.INPUT, terminal_safe(" ".join(line.split())) + "\n")


def finish(parser: argparse.ArgumentParser, top: bool = True) -> None:
    """For ``parser`` and every subcommand below it: ``--help`` shows a default only where
    there is one (no ``default: None`` / ``default: False``), and every subcommand also takes
    ``--debug`` after its name."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in {id(p): p for p in action.choices.values()}.values():
                finish(sub, top=False)
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


def help_text(text: str, flag: str) -> str:
    """Help text that names the flag's environment twin and shows the default."""
    return f"{text} (env {env_name(flag)}; default: %(default)s)"


def add_input_options(parser: argparse.ArgumentParser) -> None:
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
        help=help_text(
            "read this lockfile (package-lock.json, npm-shrinkwrap.json, yarn.lock, "
            "pnpm-lock.yaml or bun.lock)",
            "--lockfile",
        ),
    )
    source.add_argument(
        "--npm-ls",
        metavar="FILE",
        default=env_value("--npm-ls"),
        help=help_text(
            "read saved `npm ls --all --long --json` output from FILE ('-' for stdin; "
            "without --long dev and optional flags are unknown)",
            "--npm-ls",
        ),
    )
    parser.add_argument(
        "--no-npm",
        action="store_true",
        default=env_bool("--no-npm", False),
        help=help_text("never run `npm ls` in DIR, even when node_modules exists", "--no-npm"),
    )
    parser.add_argument(
        "--npm-timeout",
        type=positive_seconds,
        metavar="SECONDS",
        default=env_default("--npm-timeout", positive_seconds, 120.0),
        help=help_text("time limit for `npm ls`", "--npm-timeout"),
    )


def add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=[f.value for f in FormatName],
        default=env_choice("--format", [f.value for f in FormatName], FormatName.TABLE.value),
        help=help_text("report format", "--format"),
    )
    parser.add_argument(
        "--output",
        metavar="FILE",
        default=env_value("--output"),
        help=help_text("write the report to FILE (atomically, after success)", "--output"),
    )


def add_policy_options(parser: argparse.ArgumentParser, *, fail_on: bool = True) -> None:
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


def add_registry_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("registry, cache and offline use")
    group.add_argument(
        "--registry",
        metavar="URL",
        default=env_value("--registry"),
        help=help_text("npm registry base URL (otherwise npm's configuration)", "--registry"),
    )
    group.add_argument(
        "--no-registry",
        action="store_true",
        default=env_bool("--no-registry", False),
        help=help_text("do not consult the npm registry (tree checks only)", "--no-registry"),
    )
    group.add_argument(
        "--offline",
        action="store_true",
        default=env_bool("--offline", False),
        help=help_text("no network: use only the cache and bundled data", "--offline"),
    )
    group.add_argument(
        "--no-cache",
        action="store_true",
        default=env_bool("--no-cache", False),
        help=help_text("neither read nor write the cache", "--no-cache"),
    )
    add_cache_dir_option(group)
    group.add_argument(
        "--cache-ttl",
        metavar="SECONDS|1d",
        default=env_default("--cache-ttl", _ttl_text, "1d"),
        help=help_text(
            "age after which cached facts are revalidated (s, m, h, d, w)", "--cache-ttl"
        ),
    )
    group.add_argument(
        "--jobs",
        type=positive_int,
        metavar="N",
        default=env_default("--jobs", positive_int, None),
        help=f"concurrent registry requests (env {env_name('--jobs')}; default: 32 per "
        "registry over HTTP/1.1, 128 on each HTTP/2 connection once it answers over HTTP/2, "
        "whose requests share a connection; a big cold fetch has one per fetch worker)",
    )
    group.add_argument(
        "--strict",
        action="store_true",
        default=env_bool("--strict", False),
        help=help_text("exit 3 when the registry could not be used at all", "--strict"),
    )
    add_advisory_options(group)
    add_budget_options(parser)


def add_budget_options(parser: argparse.ArgumentParser) -> None:
    """The resource budget (README "Resource budget"): what one run may cost at most."""
    group = parser.add_argument_group("resource budget (see Resource budget in the README)")
    group.add_argument(
        "--input-budget",
        type=budget.byte_size,
        metavar="SIZE",
        default=env_default("--input-budget", budget.byte_size, budget.INPUT_BYTES),
        help=help_text(
            "bytes read of one input file or stdin, counted as read (512K, 256M, 1G)",
            "--input-budget",
        ),
    )
    group.add_argument(
        "--depth-budget",
        type=budget.path_depth,
        metavar="N",
        default=env_default("--depth-budget", budget.path_depth, budget.PATH_DEPTH),
        help=help_text(
            "names kept in a reported path; deeper paths are elided in the middle",
            "--depth-budget",
        ),
    )
    group.add_argument(
        "--network-budget",
        type=positive_seconds,
        metavar="SECONDS",
        default=env_default("--network-budget", positive_seconds, None),  # None: by the tree
        help=(
            "wall time of all registry and npm-advisory requests of the run (env "
            f"{env_name('--network-budget')}; default: 300, or 25 ms per registry document "
            "asked when that is more)"
        ),
    )
    group.add_argument(
        "--response-budget",
        type=budget.byte_size,
        metavar="SIZE",
        default=env_default("--response-budget", budget.byte_size, None),  # None: by the tree
        help=(
            "decoded bytes of all registry and npm-advisory responses of the run (env "
            f"{env_name('--response-budget')}; default: 1G, or 512K per registry document "
            "asked when that is more)"
        ),
    )


def _ttl_text(text: str) -> str:
    from depaudit.cache import parse_ttl  # on use: the cache module loads SQLite

    parse_ttl(text)  # raises ValueError
    return text


def add_advisory_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    add_github_api_option(parser)
    parser.add_argument(
        "--no-advisories",
        action="store_true",
        default=env_bool("--no-advisories", False),
        help=help_text(
            "skip npm and GitHub advisories (the knowledge base is still used)", "--no-advisories"
        ),
    )


def add_github_api_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--github-api-url",
        metavar="URL",
        default=env_value("--github-api-url"),
        help="GitHub REST API for advisories, e.g. GitHub Enterprise (env "
        f"{env_name('--github-api-url')}; default: $GITHUB_API_URL, else the public API)",
    )


def add_cache_dir_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--cache-dir",
        metavar="DIR",
        default=env_value("--cache-dir"),
        help=help_text("cache folder (default: the user cache folder)", "--cache-dir"),
    )


def add_entry_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--entry",
        action="append",
        metavar="FILE",
        default=None,
        help="an entry point of the production process (repeatable; added to those found in "
        "package.json main, exports, bin and scripts.start, and to entry = [...] in the config "
        f"file; env {env_name('--entry')}, several separated by '{os.pathsep}')",
    )


def entries_from_args(args: argparse.Namespace) -> tuple[str, ...]:
    given = getattr(args, "entry", None)
    if given:
        return tuple(given)
    from_env = env_value("--entry")
    return tuple(e for e in from_env.split(os.pathsep) if e) if from_env else ()


def add_code_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-code",
        action="store_true",
        default=env_bool("--no-code", False),
        help=help_text("do not run the code rules (depaudit code) over DIR", "--no-code"),
    )


def add_heap_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--heap",
        action="append",
        metavar="SNAPSHOT",
        default=None,
        help="a heap snapshot of the running app (.heapsnapshot[.gz]); repeat, oldest first: "
        "the growth per package becomes the runtime-growth signal (see depaudit heap)",
    )
    parser.add_argument(
        "--heap-profile",
        metavar="FILE",
        default=None,
        help="a sampling heap profile of the running app (.heapprofile, node --heap-prof): "
        "live sampled bytes per package, as runtime-growth",
    )


def scan_options(parser: argparse.ArgumentParser) -> None:
    """Every option of ``depaudit scan`` on ``parser``."""
    add_input_options(parser)
    add_code_option(parser)
    add_heap_options(parser)
    add_entry_option(parser)
    add_output_options(parser)
    add_registry_options(parser)
    add_policy_options(parser)


def scan_parser(prog: str = f"{PROG} scan") -> argparse.ArgumentParser:
    """A stand-alone parser of ``depaudit scan``'s arguments (for the Action's extra-args)."""
    parser = Parser(prog=prog, add_help=False)
    scan_options(parser)
    parser.set_defaults(debug=env_bool("--debug", False))
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    from depaudit.cache import parse_ttl  # on use: start-up time
    from depaudit.github_client import api_url_from_env, find_token

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
    if args.jobs is not None and args.jobs < 1:
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
        use_code=not getattr(args, "no_code", True),
        heap_snapshots=tuple(Path(p) for p in getattr(args, "heap", None) or ()),
        heap_profile=Path(args.heap_profile) if getattr(args, "heap_profile", None) else None,
        github_token=find_token(os.environ),
        entries=entries_from_args(args),
        budget=budget.Budget(
            input_bytes=getattr(args, "input_budget", budget.INPUT_BYTES),
            path_depth=getattr(args, "depth_budget", budget.PATH_DEPTH),
            network_seconds=getattr(args, "network_budget", None),
            response_bytes=getattr(args, "response_budget", None),
        ),
    )
