"""``depaudit code [DIR]``: cli.py adds the sub-command with :func:`add_code_parser` and
hands the parsed arguments to :func:`run_code`. Only light modules are imported here; the
parser and the rules load when the command runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from depaudit.config import (
    FAIL_ON_CHOICES,
    env_bool,
    env_choice,
    env_default,
    env_name,
    env_value,
    find_config,
    load_config,
    positive_int,
)
from depaudit.errors import ExitCode, UsageError
from depaudit.options import add_cache_dir_option, add_output_options, help_text

CODE_EXIT_CODES = """exit codes:
  0  success (no finding at or above --fail-on)
  1  findings at or above --fail-on (unreleased-connection and uncleared-timer are high,
     listener-leak and growing-collection medium, unbounded-cache low)
  2  usage, input or configuration error (one line on stderr, nothing written)
  4  internal error (traceback only with --debug)
  130 interrupted
"""


def add_code_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    code = commands.add_parser(
        "code",
        help="find the classic leak patterns in the app's own JavaScript and TypeScript",
        description="Read the app's own .js/.mjs/.cjs/.jsx/.ts/.tsx files under DIR (honouring "
        ".gitignore; never node_modules, build output or minified bundles) and report "
        "unreleased connections, listeners added per request, module-level collections that "
        "only grow, timers per connection never cleared and unbounded caches.",
        epilog=CODE_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    code.add_argument(
        "directory",
        nargs="?",
        default=env_value("--directory") or ".",
        metavar="DIR",
        help=help_text("folder (or one file) to read", "--directory"),
    )
    add_output_options(code)
    code.add_argument(
        "--scan-build-output",
        action="store_true",
        default=env_bool("--scan-build-output", False),
        help=help_text(
            "also read dist/, build/, out/ and other build-output folders", "--scan-build-output"
        ),
    )
    code.add_argument(
        "--include-tests",
        action="store_true",
        default=env_bool("--include-tests", False),
        help=help_text(
            "also read test code (test/, tests/, __tests__/, spec/, *.test.*, *.spec.*)",
            "--include-tests",
        ),
    )
    code.add_argument(
        "--no-cache",
        action="store_true",
        default=env_bool("--no-cache", False),
        help=help_text("neither read nor write the per-file results cache", "--no-cache"),
    )
    add_cache_dir_option(code)
    code.add_argument(
        "--jobs",
        type=positive_int,
        metavar="N",
        default=env_default("--code-jobs", positive_int, None),
        help="worker processes for files not in the cache (env "
        f"{env_name('--code-jobs')}; default: up to 4, one per CPU)",
    )
    group = code.add_argument_group("CI policy")
    group.add_argument(
        "--fail-on",
        choices=FAIL_ON_CHOICES,
        default=env_choice("--fail-on", FAIL_ON_CHOICES, None),
        help=f"exit 1 when a finding is at or above this tier (env {env_name('--fail-on')}; "
        "default: fail-on in the config file, else never)",
    )
    group.add_argument(
        "--config",
        metavar="FILE",
        default=env_value("--config"),
        help=f"config file with fail-on (env {env_name('--config')}; default: .depaudit.toml "
        "in DIR when present)",
    )


def fails(findings: object, fail_on: str | None) -> bool:
    """Whether any finding is at or above ``fail_on`` (high, medium, low; never)."""
    from depaudit.code.model import Finding
    from depaudit.models import Tier
    from depaudit.scoring.rank import at_or_above

    if fail_on in (None, "never"):
        return False
    threshold = Tier(fail_on)
    return any(
        isinstance(f, Finding) and at_or_above(f.tier, threshold)
        for f in findings  # type: ignore[attr-defined]
    )


def run_code(args: argparse.Namespace) -> int:
    from depaudit.cache import Cache
    from depaudit.code.engine import scan_code
    from depaudit.code.render import render, summary_line

    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    directory = Path(args.directory)
    fail_on = args.fail_on
    if fail_on is None:
        config_dir = directory if directory.is_dir() else directory.parent
        config = load_config(find_config(config_dir, Path(args.config) if args.config else None))
        from_file = config.get("fail-on")
        fail_on = from_file if isinstance(from_file, str) else "never"
    cache = None
    if not args.no_cache:
        cache = Cache(Path(args.cache_dir) if args.cache_dir else None)
    try:
        report = scan_code(
            directory,
            cache=cache,
            build_output=args.scan_build_output,
            tests=args.include_tests,
            jobs=args.jobs,
        )
    finally:
        if cache is not None:
            cache.close()
    text = render(report, args.format)
    if args.output:
        from depaudit.app import write_atomically

        write_atomically(Path(args.output), text)
    else:
        sys.stdout.write(text)
    from depaudit.text import terminal_safe

    for warning in report.warnings:
        print(terminal_safe(f"warning: {warning}"), file=sys.stderr)
    print(terminal_safe(summary_line(report)), file=sys.stderr)
    return ExitCode.SUSPECTS if fails(report.findings, fail_on) else ExitCode.OK
