"""``depaudit github comment`` and ``depaudit github action-run`` (what action.yml calls).

cli.py adds the ``github`` sub-command with :func:`add_github_parser` and hands the parsed
arguments to :func:`run_github`; everything GitHub-specific lives here.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from depaudit.config import env_bool, env_name, env_value
from depaudit.errors import ExitCode, InputError, UsageError

# the comment and the Action's run are imported when a github command runs: a scan does not
# load the GitHub client
Sleep = Callable[[float], None]
#: the author whose comment is updated (github.comment.DEFAULT_AUTHOR; a test keeps them equal)
DEFAULT_AUTHOR = "github-actions[bot]"

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


def run_comment(args: argparse.Namespace, environ: Mapping[str, str], sleep: Sleep) -> int:
    from depaudit.github.comment import post_comment

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


def run_github(
    args: argparse.Namespace,
    environ: Mapping[str, str] | None = None,
    sleep: Sleep = time.sleep,
) -> int:
    env = os.environ if environ is None else environ
    if args.github_command == "comment":
        return run_comment(args, env, sleep)
    if args.github_command == "action-run":
        from depaudit.github.action_run import run_action

        return run_action(args, env, sleep)
    raise UsageError("depaudit github needs a subcommand", "comment or action-run")
