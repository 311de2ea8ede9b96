"""config.py: DEPAUDIT_* twins of the flags, the number parsers, and .depaudit.toml (found,
read, and refused with one line when it is wrong)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from depaudit.config import (
    CONFIG_NAME,
    Settings,
    env_bool,
    env_choice,
    env_name,
    env_value,
    find_config,
    load_config,
    positive_int,
    positive_seconds,
)
from depaudit.errors import ConfigError, InputError


def test_every_flag_has_an_environment_twin() -> None:
    assert env_name("--no-npm") == "DEPAUDIT_NO_NPM"
    assert env_name("--github-api-url") == "DEPAUDIT_GITHUB_API_URL"
    assert env_value("--format", {"DEPAUDIT_FORMAT": "json"}) == "json"
    assert env_value("--format", {}) is None


@pytest.mark.parametrize(
    ("raw", "value"), [("1", True), ("yes", True), ("off", False), ("", False)]
)
def test_env_bool_words(raw: str, value: bool) -> None:
    assert env_bool("--offline", not value, {"DEPAUDIT_OFFLINE": raw}) is value


def test_env_bool_refuses_other_words() -> None:
    with pytest.raises(ConfigError, match="DEPAUDIT_OFFLINE"):
        env_bool("--offline", False, {"DEPAUDIT_OFFLINE": "maybe"})


def test_env_choice_refuses_what_the_flag_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPAUDIT_FAIL_ON", "hgih")
    with pytest.raises(ConfigError, match="DEPAUDIT_FAIL_ON"):
        env_choice("--fail-on", ["high", "low"], None)
    monkeypatch.setenv("DEPAUDIT_FAIL_ON", "low")
    assert env_choice("--fail-on", ["high", "low"], None) == "low"
    monkeypatch.delenv("DEPAUDIT_FAIL_ON")
    assert env_choice("--fail-on", ["high", "low"], None) is None


@given(st.text(max_size=12))
def test_number_parsers_accept_only_sane_numbers(text: str) -> None:
    for parse in (positive_int, positive_seconds):
        try:
            value = parse(text)
        except argparse.ArgumentTypeError:
            continue
        assert value == value and value > 0  # never nan, never zero or negative


def test_number_parsers_edges() -> None:
    assert positive_int("8") == 8
    assert positive_seconds("2.5") == 2.5
    for bad in ("0", "-1", "nan", "inf", "1e9", "x"):
        with pytest.raises(argparse.ArgumentTypeError):
            positive_seconds(bad)


def test_config_file_is_found_beside_the_project(tmp_path: Path) -> None:
    assert find_config(tmp_path, None) is None
    (tmp_path / CONFIG_NAME).write_text('fail-on = "high"\n')
    assert find_config(tmp_path, None) == tmp_path / CONFIG_NAME
    other = tmp_path / "other.toml"
    assert find_config(tmp_path, other) == other  # --config wins, even before it exists
    assert load_config(tmp_path / CONFIG_NAME) == {"fail-on": "high"}
    assert load_config(None) == {}


@pytest.mark.parametrize(
    ("text", "error", "words"),
    [
        ("fail-on = [", InputError, "not valid TOML"),
        ('fail-on = "sometimes"\n', InputError, "is not one of"),
        ('failon = "high"\n', ConfigError, "unknown key 'failon'"),
        ("entry = [1]\n", InputError, "entry must be a list"),
    ],
)
def test_a_wrong_config_file_is_one_clear_error(
    tmp_path: Path, text: str, error: type[Exception], words: str
) -> None:
    path = tmp_path / CONFIG_NAME
    path.write_text(text)
    with pytest.raises(error, match=words):
        load_config(path)


def test_a_missing_or_unreadable_config_file_names_itself(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(InputError, match="is a directory"):
        load_config(tmp_path)


def test_settings_never_show_the_token() -> None:
    settings = Settings(github_token="ghp_secret0123456789")
    assert "ghp_secret" not in repr(settings)
