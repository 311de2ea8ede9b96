"""depaudit.formats.registry: every format name gives its format, importing only that one."""

from __future__ import annotations

import subprocess
import sys

import pytest

from depaudit.formats.registry import FormatName, get_format


@pytest.mark.parametrize("name", list(FormatName))
def test_every_format_name_gives_its_format(name: FormatName) -> None:
    assert get_format(name.value).name is name


def test_only_the_format_asked_for_is_imported() -> None:
    code = (
        "import sys\n"
        "from depaudit.formats.registry import get_format\n"
        "get_format('json')\n"
        "print(sorted(m for m in sys.modules if m.startswith('depaudit.formats.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == str(
        ["depaudit.formats.interface", "depaudit.formats.json", "depaudit.formats.registry"]
    )
