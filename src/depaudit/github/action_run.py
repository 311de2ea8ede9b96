"""``depaudit github action-run``: what action.yml runs. One scan through the library
(:func:`depaudit.app.scan`), every requested format rendered from that one report, on pull
requests the diff against the base, the job summary, the sticky comment and the outputs."""

from __future__ import annotations

import argparse
import contextlib
import shlex
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from depaudit.app import Scan, exit_code, scan, write_atomically
from depaudit.audit import Clock, build_report, utc_now
from depaudit.config import Settings
from depaudit.diff import diff_reports, render_diff
from depaudit.errors import DepauditError, ExitCode, InputError, UsageError, print_error
from depaudit.formats.registry import FormatName, get_format
from depaudit.github.actions import (
    ActionsEnv,
    annotation,
    append_summary,
    pull_request_base,
    read_event,
    set_outputs,
)
from depaudit.github.comment import (
    BODY_LIMIT,
    Sleep,
    post_comment,
)
from depaudit.options import scan_parser, settings_from_args
from depaudit.sources import detect
from depaudit.sources.git_base import load_base

#: file name of each report format in the output folder
EXTENSIONS = {"markdown": "md", "sarif": "sarif", "json": "json", "table": "txt"}


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
        scanned = scan(settings, clock, formats=wanted)
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
        diff = diff_reports(base, scanned.report, base_label, str(head))
        if scanned.settings.use_code:
            from depaudit.code.changes import new_findings

            diff = replace(diff, new_findings=new_findings(head.resolve().parent, sha))
        text = render_diff(diff, "markdown")
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
