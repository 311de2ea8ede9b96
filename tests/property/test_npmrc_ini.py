"""depaudit's npmrc parser (``npmrc.parse_npmrc``) against npm's own: the ``ini`` package
bundled with the npm on this machine, run by node, on generated npmrc texts (comments whole
and inline, quotes, escapes, sections, a byte-order mark, blank and odd lines). Skipped
where no npm with its ``ini`` is found. One node process answers every example (a line of
JSON in, a line of JSON out), so the comparison costs milliseconds per example."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from depaudit.npmrc import parse_npmrc

# top-level keys npm's ini gives, as strings the way npm's configuration then sees them
# (true / false / null are JSON values to ini; arrays are left out of the generated texts)
_SCRIPT = """
const ini = require(process.argv[1])
const rl = require('readline').createInterface({ input: process.stdin })
rl.on('line', (line) => {
  const parsed = ini.parse(JSON.parse(line))
  const out = {}
  for (const [k, v] of Object.entries(parsed)) {
    if (v === null || typeof v !== 'object') out[k] = String(v)
  }
  process.stdout.write(JSON.stringify(out) + '\\n')
})
"""


def _npm_ini() -> Path | None:
    npm, node = shutil.which("npm"), shutil.which("node")
    if not npm or not node:
        return None
    folder = Path(os.path.realpath(npm)).parent.parent / "node_modules" / "ini"
    return folder if (folder / "package.json").is_file() else None


@pytest.fixture(scope="module")
def npm_parse() -> Iterator[subprocess.Popen[str]]:
    folder = _npm_ini()
    if folder is None:
        pytest.skip("no npm with its bundled ini on PATH")
    node = shutil.which("node")
    assert node is not None
    with subprocess.Popen(
        [node, "-e", _SCRIPT, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    ) as process:
        yield process
        assert process.stdin is not None
        process.stdin.close()


def ask(process: subprocess.Popen[str], text: str) -> dict[str, str]:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(json.dumps(text) + "\n")
    process.stdin.flush()
    answer: dict[str, str] = json.loads(process.stdout.readline())
    return answer


_PIECE = st.sampled_from(
    [
        "a",
        "b",
        "k",
        "registry",
        "x",
        "/",
        ":",
        ".",
        "-",
        "_",
        " ",
        "\t",
        ";",
        "#",
        "\\",
        '"',
        "'",
        "=",
        "==",
        "[",
        "]",
        "\\;",
        "\\#",
        "\\\\",
        "\u00a0",
        "\ufeff",
        "é",
        "1",
        "true",
        "null",
    ]
)
_LINE = st.one_of(
    st.lists(_PIECE, max_size=8).map("".join),
    st.sampled_from(["[sec]", "[s] ", " [x]", "[", "; note", "  # note", "=v", ""]),
)
_TEXT = st.lists(_LINE, max_size=8).flatmap(
    lambda lines: st.sampled_from(["\n", "\r\n", "\r"]).map(lambda end: end.join(lines))
)


@pytest.mark.npm
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXT, bom=st.booleans())
def test_npmrc_text_reads_as_npms_ini_reads_it(
    npm_parse: subprocess.Popen[str], text: str, bom: bool
) -> None:
    assume("[]" not in text)  # arrays: npm's lists are joined by depaudit, kept by ini
    text = ("\ufeff" if bom else "") + text
    assert parse_npmrc(text, {}) == ask(npm_parse, text)
