"""fail-on and the ignore file (with expiry), through main(argv) with an injected clock."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from depaudit.cli import main
from depaudit.errors import ConfigError
from depaudit.ignore import parse_ignores

APP = Path(__file__).resolve().parent.parent / "examples" / "express-app"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


@pytest.fixture
def app(tmp_path: Path) -> Path:
    if not (APP / "package-lock.json").is_file():
        pytest.skip("examples/express-app is not there")
    target = tmp_path / "app"
    target.mkdir()
    for name in ("package.json", "package-lock.json"):
        shutil.copy(APP / name, target / name)
    return target


def scan(app: Path, *extra: str) -> list[str]:
    return ["scan", str(app), "--no-npm", "--offline", "--format", "json", *extra]


def run(argv, capsys) -> tuple[int, dict, str]:
    code = main(argv, clock=clock)
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip().startswith("{") else {}), err


def test_fail_on_exit_codes(app, capsys):
    assert run(scan(app), capsys)[0] == 0  # default: never
    assert run(scan(app, "--fail-on", "high"), capsys)[0] == 1
    assert run(scan(app, "--fail-on", "never"), capsys)[0] == 0


def test_fail_on_from_the_config_file_and_flag_wins(app, capsys):
    (app / ".depaudit.toml").write_text('fail-on = "high"\n')
    assert run(scan(app), capsys)[0] == 1
    assert run(scan(app, "--fail-on", "never"), capsys)[0] == 0  # the flag wins, even "never"
    (app / ".depaudit.toml").write_text('fail-on = "loud"\n')
    code, _, err = run(scan(app), capsys)
    assert code == 2 and ".depaudit.toml" in err


def test_ignore_by_package_and_advisory_with_expiry(app, capsys):
    _, before, _ = run(scan(app), capsys)
    qs = next(s for s in before["suspects"] if s["name"] == "qs")
    assert any("GHSA-6rw7-vpxm-498p" in s["evidence"] for s in qs["signals"])
    (app / ".depaudit.toml").write_text(
        """
[[ignore]]
package = "socket.io-redis"
range = "<6"
reason = "moving to @socket.io/redis-adapter in PLAT-12"
until = 2026-12-31

[[ignore]]
package = "request"
reason = "replaced last quarter"
until = 2026-11-01

[[ignore]]
advisory = "GHSA-6rw7-vpxm-498p"
reason = "request only parses our own query strings"

[[ignore]]
package = "left-pad"
reason = "not even installed"
"""
    )
    code, report, err = run(scan(app, "--fail-on", "medium"), capsys)
    names = {s["name"]: s for s in report["suspects"]}
    assert "socket.io-redis" not in names  # ignored until 2026-12-31
    # expired: applies again (medium: request's deprecation is maintenance evidence, not of a
    # leak, so it is not high since issue 18)
    assert "request" in names and names["request"]["tier"] == "medium"
    # qs@6.5.5's only signal rests on that advisory: without it qs is no suspect at all
    assert "qs" not in names
    for suspect in report["suspects"]:
        assert all("GHSA-6rw7-vpxm-498p" not in s["evidence"] for s in suspect["signals"])
        assert suspect["score"] == round(sum(s["points"] for s in suspect["signals"]), 1)
    notes = "\n".join(report["ignored"])
    assert "ignored socket.io-redis@5.4.0" in notes
    assert "expired, no longer applied: request until 2026-11-01" in notes
    assert "matched nothing: left-pad" in notes
    assert "ignored qs@6.5.5" in notes
    assert code == 1  # request is medium again
    # a day after the first entry's date it stops applying too
    later = datetime(2027, 1, 1, tzinfo=UTC)
    main(scan(app), clock=lambda: later)
    report = json.loads(capsys.readouterr().out)
    assert "socket.io-redis" in {s["name"] for s in report["suspects"]}


def test_explicit_config_file_and_errors(app, tmp_path, capsys):
    config = tmp_path / "policy.toml"
    config.write_text('[[ignore]]\npackage = "socket.io-redis"\n')  # no reason
    code, _, err = run(scan(app, "--config", str(config)), capsys)
    assert code == 2 and "reason is required" in err
    code, _, err = run(scan(app, "--config", str(tmp_path / "missing.toml")), capsys)
    assert code == 2 and "missing.toml: does not exist" in err
    config.write_text("[[ignore\n")
    code, _, err = run(scan(app, "--config", str(config)), capsys)
    assert code == 2 and "is not valid TOML" in err


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"reason": "x"}, "exactly one of package or advisory"),
        ({"package": "a", "advisory": "GHSA-x", "reason": "x"}, "exactly one"),
        ({"package": "a", "range": "not a range!", "reason": "x"}, "not a semver range"),
        ({"package": "a", "reason": "x", "until": "next year"}, "until must be a date"),
        ({"package": "a", "reason": "x", "colour": "red"}, "unknown key colour"),
    ],
)
def test_bad_ignore_entries(entry, problem):
    with pytest.raises(ConfigError, match=problem):
        parse_ignores({"ignore": [entry]}, ".depaudit.toml")
