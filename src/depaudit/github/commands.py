"""``depaudit github comment`` and ``depaudit github action-run`` (what action.yml calls).

cli.py adds the ``github`` sub-command with :func:`add_github_parser` and hands the parsed
arguments to :func:`run_github`; everything GitHub-specific lives here.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from depaudit.app import Scan, exit_code, print_error, scan, write_atomically
from depaudit.audit import Clock, build_report, utc_now
from depaudit.config import Settings, env_bool, env_name, env_value
from depaudit.diff import diff_reports, load_base, render_diff
from depaudit.errors import ConfigError, DepauditError, ExitCode, InputError, UsageError
from depaudit.formats.interface import FormatName, get_format
from depaudit.github.actions import (
    ActionsEnv,
    annotation,
    append_summary,
    pull_request_base,
    pull_request_number,
    read_event,
    set_outputs,
)
from depaudit.github.comment import BODY_LIMIT, DEFAULT_AUTHOR, build_body, marker_for
from depaudit.github.comment import upsert_comment as _upsert
from depaudit.github_client import GitHubClient, require_token
from depaudit.options import scan_parser, settings_from_args
from depaudit.sources import detect

Sleep = Callable[[float], None]

#: file name of each report format in the output folder
EXTENSIONS = {"markdown": "md", "sarif": "sarif", "json": "json", "table": "txt"}
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


def _help(text: str, flag: str) -> str:
    return f"{text} (env {env_name(flag)}; default: %(default)s)"


def _bool_word(value: str) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise argparse.ArgumentTypeError(f"{value!r} is not a boolean (use true or false)")


# -- parser -------------------------------------------------------------------------------------


def add_github_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    github = commands.add_parser(
        "github",
        help="GitHub integration: the sticky PR comment and the Action's steps",
        description="GitHub integration: the sticky pull-request comment and the steps that "
        "the depaudit GitHub Action runs.",
    )
    sub = github.add_subparsers(dest="github_command", metavar="SUBCOMMAND")

    comment = sub.add_parser(
        "comment",
        help="create or update the one depaudit comment on a pull request",
        description="Create or update ONE sticky comment on a pull request (found by a hidden "
        "marker), with the token from GITHUB_TOKEN or GH_TOKEN, the repository from "
        "GITHUB_REPOSITORY, the pull request from GITHUB_EVENT_PATH and the API from "
        "GITHUB_API_URL. Prints the comment's URL.",
    )
    comment.add_argument(
        "--report",
        required=True,
        metavar="FILE",
        help="the markdown to post ('-' for stdin)",
    )
    _add_comment_target_options(comment)

    run = sub.add_parser(
        "action-run",
        help="the GitHub Action's steps: scan, job summary, PR diff and comment, outputs",
        description="Run the depaudit GitHub Action's steps: scan PATH in every format asked "
        "for, write the markdown to $GITHUB_STEP_SUMMARY, on pull requests diff against the "
        "base and post the sticky comment, and write the outputs to $GITHUB_OUTPUT.",
    )
    run.add_argument(
        "--path",
        default=env_value("--path") or ".",
        help=_help("project folder to scan", "--path"),
    )
    run.add_argument(
        "--fail-on",
        default=env_value("--fail-on") or "",
        metavar="LEVEL",
        help=_help(
            "exit 1 when a suspect is at or above LEVEL (empty: the scan's default)", "--fail-on"
        ),
    )
    run.add_argument(
        "--formats",
        default=env_value("--formats") or "markdown,json",
        help=_help("comma-separated report formats to write", "--formats"),
    )
    run.add_argument(
        "--comment",
        type=_bool_word,
        default=env_value("--comment") or "true",
        metavar="BOOL",
        help=_help("post the sticky comment on pull requests", "--comment"),
    )
    run.add_argument(
        "--sarif",
        type=_bool_word,
        default=env_value("--sarif") or "false",
        metavar="BOOL",
        help=_help("also write SARIF (for code scanning)", "--sarif"),
    )
    run.add_argument(
        "--extra-args",
        default=env_value("--extra-args") or "",
        metavar="ARGS",
        help=_help("more arguments for `depaudit scan`, split like a shell", "--extra-args"),
    )
    run.add_argument(
        "--output-dir",
        default=env_value("--output-dir")
        or str(Path(os.environ.get("RUNNER_TEMP") or ".") / "depaudit-report"),
        metavar="DIR",
        help=_help("folder for the report files", "--output-dir"),
    )
    run.add_argument(
        "--no-fail",
        action="store_true",
        default=env_bool("--no-fail", False),
        help=_help(
            "exit 0 even when the scan finds suspects at or above --fail-on (the exit code is "
            "still written to the exit-code output)",
            "--no-fail",
        ),
    )
    _add_comment_target_options(run)


def _add_comment_target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--repo",
        default=env_value("--repo"),
        metavar="OWNER/REPO",
        help=_help("repository (else GITHUB_REPOSITORY)", "--repo"),
    )
    parser.add_argument(
        "--pr",
        type=int,
        default=env_value("--pr"),
        metavar="N",
        help=_help("pull request number (else from GITHUB_EVENT_PATH)", "--pr"),
    )
    parser.add_argument(
        "--comment-key",
        default=env_value("--comment-key"),
        metavar="KEY",
        help=_help(
            "keeps one sticky comment per KEY when several reports share a PR", "--comment-key"
        ),
    )
    parser.add_argument(
        "--comment-author",
        default=env_value("--comment-author") or DEFAULT_AUTHOR,
        metavar="LOGIN",
        help=_help("only a comment by this user is updated", "--comment-author"),
    )


# -- github comment -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommentTarget:
    owner: str
    repo: str
    number: int


def resolve_target(env: ActionsEnv, repo: str | None, pr: int | None) -> CommentTarget:
    if repo:
        env = ActionsEnv(repository=repo)
    owner, name = env.require_repository()
    number = pr
    if number is None:
        if env.event_path is None and repo is None:
            raise ConfigError("no pull request: GITHUB_EVENT_PATH is not set", "pass --pr N")
        if env.event_path is not None:
            number = pull_request_number(read_event(env.event_path))
    if number is None:
        raise ConfigError(
            f"the event {env.event_name or ''!s} is not about a pull request".replace("  ", " "),
            "run on `pull_request` (or `pull_request_target`), or pass --pr N",
        )
    return CommentTarget(owner, name, number)


def _read_report(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    path = Path(name)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(path, "not found", "give --report the markdown file to post") from None
    except UnicodeDecodeError:
        raise InputError(path, "is not UTF-8 text") from None
    except OSError as exc:
        raise InputError(path, f"cannot be read ({exc.strerror or exc})") from None


def post_comment(
    report: str,
    *,
    environ: Mapping[str, str],
    repo: str | None = None,
    pr: int | None = None,
    key: str | None = None,
    author: str = DEFAULT_AUTHOR,
    sleep: Sleep = time.sleep,
) -> str:
    """Create or update the sticky comment; returns its URL."""
    env = ActionsEnv.from_environ(environ)
    token = require_token(environ)
    target = resolve_target(ActionsEnv.from_environ(environ), repo, pr)
    marker = marker_for(key)
    client = GitHubClient(token, env.api_url, sleep=sleep)
    body = build_body(report, marker)
    result = _upsert(
        client, target.owner, target.repo, target.number, body, marker=marker, author=author
    )
    return result.url


def run_comment(args: argparse.Namespace, environ: Mapping[str, str], sleep: Sleep) -> int:
    url = post_comment(
        _read_report(args.report),
        environ=environ,
        repo=args.repo,
        pr=args.pr,
        key=args.comment_key,
        author=args.comment_author,
        sleep=sleep,
    )
    print(url)
    return ExitCode.OK


# -- github action-run ----------------------------------------------------------------------------


@dataclass
class RunResult:
    """What action-run did: the scan's exit code, the files written, the comment."""

    exit_code: int = ExitCode.OK
    files: dict[str, Path] = field(default_factory=dict)
    markdown: str = ""
    diff_markdown: str | None = None
    comment_url: str = ""
    warnings: list[str] = field(default_factory=list)
    #: how many times a tree was enriched and scored (one on any run; the diff's base adds one)
    scans: int = 0


def _warn(result: RunResult, message: str) -> None:
    result.warnings.append(message)
    print(annotation("warning", message), file=sys.stderr)


def _code(text: str) -> str:
    """Text fit for an inline code span on one line."""
    return " ".join(text.replace("`", "'").split())


def _fetch_base(sha: str, cwd: Path) -> None:
    """Make the PR's base commit available in a shallow checkout (best effort)."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(
            ["git", "fetch", "--no-tags", "--quiet", "--depth=1", "origin", sha],
            cwd=cwd,
            capture_output=True,
            timeout=120,
            check=False,
        )


def scan_settings(args: argparse.Namespace) -> Settings:
    """The action's inputs as ``depaudit scan PATH [--fail-on LEVEL] EXTRA-ARGS``."""
    try:
        extra = shlex.split(args.extra_args)
    except ValueError as exc:
        raise UsageError(f"--extra-args: {exc}", "quote arguments as a shell would") from None
    argv = [args.path, *(["--fail-on", args.fail_on] if args.fail_on else []), *extra]
    return settings_from_args(scan_parser().parse_args(argv))


def action_run(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    sleep: Sleep = time.sleep,
    clock: Clock = utc_now,
) -> RunResult:
    """Scan once, render every requested format from that one report, and on pull requests
    diff it against the base."""
    env = ActionsEnv.from_environ(environ)
    result = RunResult()
    out_dir = Path(args.output_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(out_dir, f"cannot be created ({exc.strerror or exc})") from None
    wanted = [f.strip().lower() for f in args.formats.split(",") if f.strip()]
    if "markdown" not in wanted:
        wanted.insert(0, "markdown")  # the summary and the comment need it
    if args.sarif and "sarif" not in wanted:
        wanted.append("sarif")
    known = {f.value for f in FormatName}
    try:
        settings = scan_settings(args)
        scanned = scan(settings, clock)
    except SystemExit as exc:  # a usage error in extra-args: argparse said it on stderr
        result.exit_code = int(exc.code) if isinstance(exc.code, int) else ExitCode.INPUT
        return result
    except DepauditError as error:
        print_error(error)
        result.exit_code = error.exit_code
        return result
    result.scans += 1
    for fmt in dict.fromkeys(wanted):
        if fmt not in known:
            _warn(result, f"this depaudit cannot write --format {fmt}; skipped")
            continue
        target = out_dir / f"depaudit.{EXTENSIONS.get(fmt, fmt)}"
        write_atomically(target, get_format(fmt).render(scanned.report))
        result.files[fmt] = target
    result.exit_code = exit_code(scanned)
    if result.exit_code not in (ExitCode.OK, ExitCode.SUSPECTS):
        return result
    if "markdown" in result.files:
        result.markdown = result.files["markdown"].read_text(encoding="utf-8")
    if env.is_pull_request:
        result.diff_markdown = _run_diff(scanned, env, out_dir, result, clock)
        if result.diff_markdown is not None:
            result.files["diff"] = out_dir / "depaudit-diff.md"
    return result


def _head_lockfile(scanned: Scan) -> Path | None:
    """The lockfile the scan read: ``--lockfile``, else the tree's own source when it is a
    lockfile, else the one depaudit detects in the folder."""
    settings = scanned.settings
    if settings.lockfile is not None:
        return settings.lockfile
    if settings.npm_ls is not None:
        return None  # a saved npm ls: no lockfile to compare
    folder = Path(settings.directory)
    if folder.is_file():
        return folder
    return detect(folder).lockfile


def _run_diff(
    scanned: Scan, env: ActionsEnv, out_dir: Path, result: RunResult, clock: Clock
) -> str | None:
    """The diff against the pull request's base: the base lockfile from git, scored once;
    the head is the scan's own report."""
    if env.event_path is None:
        return None
    sha, _ref = pull_request_base(read_event(env.event_path))
    if not sha:
        return None
    try:
        head = _head_lockfile(scanned)
    except DepauditError:
        return None  # the scan has said what is wrong with the folder
    if head is None:
        return None
    _fetch_base(sha, Path(env.workspace or "."))
    target = out_dir / "depaudit-diff.md"
    try:
        base_tree, base_label = load_base(sha, head)
        base = scanned.ignored(build_report(scanned.settings, base_tree, clock)[0], clock)
        result.scans += 1
        text = render_diff(diff_reports(base, scanned.report, base_label, str(head)), "markdown")
        write_atomically(target, text)
    except DepauditError as error:
        _warn(
            result,
            f"depaudit diff against the base {sha[:12]} failed (exit {int(error.exit_code)}): "
            f"{error.message}",
        )
        return None
    return text


def comment_markdown(result: RunResult, env: ActionsEnv, limit: int = BODY_LIMIT) -> str:
    """The PR comment: the diff against the base first (when there is one), then the full
    report, folded; the report is left out, with a link to the run, if both do not fit."""
    if result.diff_markdown is None:
        return result.markdown
    folded = (
        "\n\n<details><summary>Full report</summary>\n\n"
        + result.markdown.strip("\n")
        + "\n\n</details>\n"
    )
    if len(result.diff_markdown) + len(folded) + 200 <= limit:
        return result.diff_markdown.rstrip("\n") + folded
    link = f" ([run]({env.run_url}))" if env.run_url else ""
    return result.diff_markdown.rstrip("\n") + f"\n\nThe full report is in the job summary{link}.\n"


def summary_markdown(result: RunResult) -> str:
    parts = [p for p in (result.diff_markdown, result.markdown) if p]
    return "\n\n".join(p.strip("\n") for p in parts) + "\n"


def run_action(args: argparse.Namespace, environ: Mapping[str, str], sleep: Sleep) -> int:
    env = ActionsEnv.from_environ(environ)
    result = action_run(args, environ, sleep)
    outputs: dict[str, str] = {"exit-code": str(int(result.exit_code))}
    for fmt, path in result.files.items():
        outputs[fmt] = str(path)
    outputs["report-dir"] = str(Path(args.output_dir))

    if env.step_summary is not None:
        if result.markdown:
            append_summary(env.step_summary, summary_markdown(result))
        elif result.exit_code not in (ExitCode.OK, ExitCode.SUSPECTS):
            append_summary(
                env.step_summary,
                f"## depaudit\n\n:x: The scan of `{_code(args.path)}` failed (exit "
                f"{int(result.exit_code)}); the step's log says why.\n",
            )

    if result.markdown and args.comment and env.is_pull_request:
        try:
            outputs["comment-url"] = post_comment(
                comment_markdown(result, env),
                environ=environ,
                repo=args.repo,
                pr=args.pr,
                key=args.comment_key,
                author=args.comment_author,
                sleep=sleep,
            )
            print(f"depaudit: PR comment: {outputs['comment-url']}", file=sys.stderr)
        except DepauditError as error:  # the summary still has the report
            text = str(error)
            _warn(result, f"the PR comment was not posted: {text}")
    outputs.setdefault("comment-url", "")
    if env.output is not None:
        set_outputs(env.output, outputs)
    if args.no_fail and result.exit_code == ExitCode.SUSPECTS:
        return ExitCode.OK
    return result.exit_code


def run_github(
    args: argparse.Namespace,
    environ: Mapping[str, str] | None = None,
    sleep: Sleep = time.sleep,
) -> int:
    env = os.environ if environ is None else environ
    if args.github_command == "comment":
        return run_comment(args, env, sleep)
    if args.github_command == "action-run":
        return run_action(args, env, sleep)
    raise UsageError("depaudit github needs a subcommand", "comment or action-run")
