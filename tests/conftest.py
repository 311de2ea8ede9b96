"""Shared test fixtures and options."""

from __future__ import annotations

import ast
import os
import ssl
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ASSETS = Path(__file__).resolve().parent / "assets"


def _find_corpus() -> Path | None:
    """The shared lockfile corpus lives beside the checkout (``../shared/corpus``), or where
    DEPAUDIT_CORPUS points. Tests that need it are skipped when it is absent."""
    env = os.environ.get("DEPAUDIT_CORPUS")
    candidates = [Path(env)] if env else []
    candidates += [REPO.parent / "shared" / "corpus", REPO.parent.parent / "shared" / "corpus"]
    for candidate in candidates:
        if (candidate / "MANIFEST.md").is_file():
            return candidate
    return None


CORPUS = _find_corpus()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--online", action="store_true", help="run tests that talk to the configured registry"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--online"):
        return
    skip = pytest.mark.skip(reason="talks to the live registry; run with --online")
    for item in items:
        if "online" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's DEPAUDIT_* settings or user cache."""
    for name in list(os.environ):
        if name.startswith("DEPAUDIT_") and name != "DEPAUDIT_CORPUS":
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    # npm's global npmrc (a proxy or CA of this machine) stays out of the tests' scans
    monkeypatch.setenv("npm_config_globalconfig", str(tmp_path / "no-global-npmrc"))
    # scans never reach the real registry; registry tests delete this and give a loopback
    # --registry (see tests/services/conftest.py)
    monkeypatch.setenv("DEPAUDIT_NO_REGISTRY", "1")
    # GitHub advisories: a closed loopback port (refused at once), and no developer token
    monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:9")
    for name in ("GITHUB_TOKEN", "GH_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _no_shipped_fast_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process tests build the bundled data's fast forms into their cache folder, whether
    or not the install step shipped them (``setup.py``; tests/test_build.py tests those):
    what the tests of the fast forms and of the first run's imports are about."""
    from depaudit import bundled

    monkeypatch.setattr(bundled, "_read_shipped", False)


@pytest.fixture
def corpus() -> Path:
    if CORPUS is None:
        pytest.skip("the shared corpus (../shared/corpus) is not present")
    return CORPUS


def modules_loaded(
    code: str, modules: Sequence[str], env: Mapping[str, str] | None = None
) -> list[str]:
    """Which of ``modules`` a fresh interpreter has loaded once it has run ``code``: the
    start-up cost of a command or a module, what it imports (sorted)."""
    wanted = tuple(modules)
    probe = f"{code}\nimport sys\nprint(sorted(m for m in {wanted!r} if m in sys.modules))\n"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=dict(env) if env is not None else None,
    )
    loaded: list[str] = ast.literal_eval(done.stdout.strip().splitlines()[-1])
    return loaded


def loopback_tls(tmp_path: Path, name: str = "ca.pem") -> tuple[ssl.SSLContext, Path]:
    """A server's TLS context for 127.0.0.1, signed by a throwaway CA (trustme: the test is
    skipped without it), and that CA's certificate written to ``tmp_path / name``, the
    bundle a client must trust."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    bundle = tmp_path / name
    ca.cert_pem.write_to_path(str(bundle))
    return context, bundle
