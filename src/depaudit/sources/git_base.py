"""The base of a diff: a lockfile as of a git ref (``git show REF:path``), with the
package.json of the same commit, read like any lockfile. Input, so it lives with the sources;
``depaudit.diff`` only compares reports."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from depaudit.budget import Budget
from depaudit.errors import InputError, UsageError
from depaudit.models import DependencyTree
from depaudit.sources import source_for

GIT_TIMEOUT = 60.0


def show_at(folder: Path, ref: str, path: str) -> bytes | None:
    """The bytes of ``path`` (relative to the repository root) at git ``ref``, run in
    ``folder``; None when git is missing, times out or has no such file there."""
    try:
        shown = subprocess.run(
            ["git", "show", f"{ref}:{path}"],
            cwd=folder,
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return shown.stdout if shown.returncode == 0 else None


def read_base_from_git(ref: str, lockfile: Path, into: Path) -> Path:
    """Write ``lockfile`` as of git ``ref`` into the folder ``into``, with the package.json
    beside it at that ref when there is one; return the new lockfile path."""
    if ref.startswith("-"):
        raise UsageError(f"--base-ref {ref!r} is not a git ref")
    folder = lockfile.resolve().parent
    try:
        prefix = subprocess.run(
            ["git", "rev-parse", "--show-prefix"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
        if prefix.returncode != 0:
            raise InputError(lockfile, "is not in a git repository", "give BASE as a file instead")
        spec = f"{ref}:{prefix.stdout.strip()}{lockfile.name}"
        shown = subprocess.run(
            ["git", "show", spec],
            cwd=folder,
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise InputError(lockfile, "git is not installed", "give BASE as a file instead") from None
    except subprocess.TimeoutExpired:
        raise InputError(lockfile, "git show timed out") from None
    if shown.returncode != 0:
        problem = shown.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(
            f"{ref}:{lockfile.name}",
            f"cannot be read with git show ({problem[0] if problem else 'unknown error'})",
            "check the ref and that the lockfile is committed there",
        )
    target = into / lockfile.name
    target.write_bytes(shown.stdout)
    # the root package.json of the same commit, when there is one: its overrides /
    # resolutions and declared ranges are part of how the lockfile is read
    manifest = show_at(folder, ref, f"{prefix.stdout.strip()}package.json")
    if manifest is not None:  # else read as a lockfile alone
        (into / "package.json").write_bytes(manifest)
    return target


def load_base(
    base_ref: str, head: Path, budget: Budget | None = None
) -> tuple[DependencyTree, str]:
    """HEAD's lockfile as of git ``base_ref``, read, and its label."""
    with tempfile.TemporaryDirectory(prefix="depaudit-diff-") as tmp:
        path = read_base_from_git(base_ref, head, Path(tmp))
        return source_for(path, budget).load(path), f"{base_ref}:{head.name}"


def load_pair(
    base: Path | None, head: Path, base_ref: str | None, budget: Budget | None = None
) -> tuple[DependencyTree, DependencyTree, str, str]:
    """Both trees and their labels; BASE from a file or from git (each read within the
    run's input budget)."""
    head_tree = source_for(head, budget).load(head)
    if base_ref is not None:
        base_tree, label = load_base(base_ref, head, budget)
        return base_tree, head_tree, label, str(head)
    if base is None:
        raise UsageError("give BASE and HEAD lockfiles, or --base-ref REF")
    return source_for(base, budget).load(base), head_tree, str(base), str(head)
