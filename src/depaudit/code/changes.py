"""Code findings a change introduces: ``depaudit diff --base-ref REF`` reads HEAD's working
tree, and for each file with a finding the same file at REF (``git show``); a finding is new
when the file at REF has no finding of the same rule saying the same thing (line numbers in
the message are ignored, so moved code is not new)."""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from depaudit.code.model import Finding
from depaudit.js.parser import grammar_for
from depaudit.sources.git_base import GIT_TIMEOUT, show_at

if TYPE_CHECKING:
    from depaudit.cache import Cache

_LINES = re.compile(r"\bline \d+\b")


def _key(rule: str, message: str) -> tuple[str, str]:
    return rule, _LINES.sub("line N", message)


def new_findings(folder: Path, ref: str, cache: Cache | None = None) -> tuple[Finding, ...]:
    """Findings in ``folder``'s working tree that its files at git ``ref`` do not have (a file
    absent at ``ref`` has only new findings). Empty when ``folder`` is not in a git
    repository."""
    from depaudit.code.engine import analyse_source, scan_code

    if ref.startswith("-") or not folder.is_dir():
        return ()
    try:
        prefix = subprocess.run(
            ["git", "rev-parse", "--show-prefix"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ()
    if prefix.returncode != 0:
        return ()
    head = scan_code(folder, cache=cache)
    by_file: dict[str, list[Finding]] = {}
    for finding in head.findings:
        by_file.setdefault(finding.file, []).append(finding)
    out: list[Finding] = []
    for relative, findings in sorted(by_file.items()):
        base: Counter[tuple[str, str]] = Counter()
        grammar = grammar_for(relative)
        source = show_at(folder, ref, f"{prefix.stdout.strip()}{relative}")
        if source is not None and grammar is not None:
            for item in analyse_source(source, grammar)["f"]:
                base[_key(str(item["rule"]), str(item["message"]))] += 1
        for finding in findings:
            key = _key(finding.rule, finding.message)
            if base[key] > 0:
                base[key] -= 1
            else:
                out.append(finding)
    return tuple(out)
