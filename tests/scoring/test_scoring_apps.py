"""The issue's acceptance checks on real lockfiles: the old express app ranks socket.io-redis
and request at the top; a current app has nothing high. Offline with an empty cache (the
knowledge base alone) always; against the configured registry with --online."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from depaudit.cli import main

ROOT = Path(__file__).resolve().parents[2]
OLD_APP = ROOT / "examples" / "express-app"
CURRENT_APP = Path(__file__).resolve().parent / "current-app"
NOW = datetime(2026, 11, 25, tzinfo=UTC)
#: small utilities that must not outrank the true positives; debug is not one of them any
#: more: debug 3.x/4.0 carry the instances-array leak bug and are true positives themselves
LEAF_UTILITIES = {"ms", "qs", "mime", "depd", "inherits", "safe-buffer", "cookie"}


def scan(app: Path, capsys, *extra: str) -> list[dict]:
    if not (app / "package-lock.json").is_file():
        pytest.skip(f"{app.name} is not there")
    code = main(["scan", str(app), "--no-npm", "--format", "json", *extra], clock=lambda: NOW)
    out = capsys.readouterr().out
    assert code == 0
    return json.loads(out)["suspects"]


def check_old_app(suspects: list[dict]) -> None:
    names = [s["name"] for s in suspects]
    adapter = suspects[names.index("socket.io-redis")]
    assert names.index("socket.io-redis") < 3
    assert adapter["tier"] == "high"
    assert len({s["rule"] for s in adapter["signals"]}) >= 2
    assert names.index("request") < 5
    worst = max(names.index("socket.io-redis"), names.index("request"))
    assert not LEAF_UTILITIES & set(names[:worst])
    for above in suspects[:worst]:  # what ranks above them carries leak evidence
        assert {"known-leak", "leak-advisory"} & {s["rule"] for s in above["signals"]} or (
            above["name"] == "socket.io-redis"
        )


def test_old_express_app_offline_with_an_empty_cache(capsys):
    check_old_app(scan(OLD_APP, capsys, "--offline"))


def test_current_app_has_nothing_high_offline(capsys):
    assert all(s["tier"] != "high" for s in scan(CURRENT_APP, capsys, "--offline"))


@pytest.mark.online
def test_old_express_app_online(capsys):
    check_old_app(scan(OLD_APP, capsys))


@pytest.mark.online
def test_current_app_has_nothing_high_online(capsys):
    assert all(s["tier"] != "high" for s in scan(CURRENT_APP, capsys))
