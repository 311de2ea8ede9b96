"""depaudit.bundled (and so the knowledge base) reads data/ with libyaml's safe loader when
PyYAML has it (a profile hot spot, see benchmarks/README.md): every shipped YAML file must
load to the same data as with the pure-Python safe loader."""

from __future__ import annotations

import datetime
import json
import shutil
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
import yaml

from depaudit import bundled
from depaudit.services import knowledge_base

SHIPPED = sorted(
    p.name for p in resources.files("depaudit.data").iterdir() if p.name.endswith((".yaml", ".yml"))
)


def test_data_ships_yaml_files() -> None:
    assert "known-leaks.yaml" in SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_fast_loader_reads_the_same_data(name: str) -> None:
    text = resources.files("depaudit.data").joinpath(name).read_text(encoding="utf-8")
    assert knowledge_base._read(name) == yaml.safe_load(text)


def test_loader_is_safe() -> None:
    assert issubclass(bundled.safe_loader(), (yaml.SafeLoader, yaml.CSafeLoader))
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.load("!!python/object/apply:os.system ['true']", Loader=bundled.safe_loader())


# -- fast forms: data/ stays the source of truth; what is built from it is kept by hash --------


@pytest.fixture(autouse=True)
def _fast_forms_on() -> Iterator[None]:
    bundled.use_fast_forms(True)
    yield
    bundled.use_fast_forms(True)


@pytest.fixture
def data_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of data/ that the loaders read instead of the shipped one."""
    copy = tmp_path / "data"
    shutil.copytree(Path(str(resources.files("depaudit.data"))), copy)
    monkeypatch.setattr(bundled, "_data_dir", lambda: copy)
    knowledge_base.load_knowledge_base.cache_clear()
    yield copy
    knowledge_base.load_knowledge_base.cache_clear()


def _forms(kind: str) -> list[Path]:
    return sorted(bundled.fast_form_dir().glob(f"{kind}-*.json"))


def _fresh_kb() -> knowledge_base.KnowledgeBase:
    knowledge_base.load_knowledge_base.cache_clear()
    return knowledge_base.load_knowledge_base()


def test_the_knowledge_base_from_its_fast_form_is_what_data_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built = knowledge_base.build_knowledge_base()
    assert _forms("knowledge-base") == []
    assert _fresh_kb() == built  # built from data/, stored
    (form,) = _forms("knowledge-base")

    def no_yaml(name: str, text: str) -> object:
        raise AssertionError(f"{name} parsed although its fast form is there")

    monkeypatch.setattr(knowledge_base, "parse_bundled_yaml", no_yaml)
    from_form = _fresh_kb()
    assert from_form == built
    assert from_form.leak_prone == built.leak_prone  # compare=True fields, checked alike
    assert [e.kind for e in from_form.entries] == [e.kind for e in built.entries]
    assert _forms("knowledge-base") == [form]
    knowledge_base.load_knowledge_base.cache_clear()


def test_a_changed_data_file_rebuilds_the_fast_form(data_copy: Path) -> None:
    before = _fresh_kb()
    first = before.entries[0]
    path = data_copy / "known-leaks.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(f"id: {first.id}\n") == 1
    path.write_text(text.replace(f"id: {first.id}\n", f"id: {first.id}-edited\n"), encoding="utf-8")
    after = _fresh_kb()
    assert after.entries[0].id == f"{first.id}-edited"
    assert after == knowledge_base.build_knowledge_base()
    assert len(_forms("knowledge-base")) == 2  # one per content
    path.write_text(text, encoding="utf-8")
    assert _fresh_kb() == before


def test_a_broken_data_file_is_reported_even_with_an_old_form(data_copy: Path) -> None:
    _fresh_kb()
    (data_copy / "known-leaks.yaml").write_text("version: 1\nentries: [{id: x}]\n")
    with pytest.raises(knowledge_base.KnowledgeBaseError, match="known-leaks.yaml: entry 1"):
        _fresh_kb()


@pytest.mark.parametrize("damage", [b"", b"{not json", b'{"key": "other", "value": 1}', b"[1]"])
def test_a_damaged_fast_form_is_rebuilt(damage: bytes) -> None:
    built = _fresh_kb()
    (form,) = _forms("knowledge-base")
    form.write_bytes(damage)
    assert _fresh_kb() == built
    assert _forms("knowledge-base") == [form]
    assert form.read_bytes() != damage


def test_a_fast_form_of_the_wrong_shape_is_rebuilt() -> None:
    built = _fresh_kb()
    (form,) = _forms("knowledge-base")
    stored = json.loads(form.read_bytes())
    stored["value"]["entries"][0] = stored["value"]["entries"][0][:-1]  # one field short
    form.write_text(json.dumps(stored))
    assert _fresh_kb() == built


def test_an_unwritable_cache_folder_only_costs_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    bundled.use_fast_forms(True, blocker)
    assert _fresh_kb() == knowledge_base.build_knowledge_base()
    knowledge_base.load_knowledge_base.cache_clear()


def test_fast_forms_live_under_the_runs_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--cache-dir`` holds everything depaudit caches, the fast forms included (a CI that
    caches that folder keeps them; a read-only home is not written); the environment is read
    by the options, never by bundled.py."""
    from conftest import ASSETS
    from depaudit.cli import main

    monkeypatch.setenv("DEPAUDIT_CACHE_DIR", str(tmp_path / "ignored-by-bundled"))
    bundled.use_fast_forms(True, None)
    assert bundled.fast_form_dir().parent != tmp_path / "ignored-by-bundled"
    lock = ASSETS / "projects" / "broken" / "package-lock.json"
    knowledge_base.load_knowledge_base.cache_clear()
    args = ["scan", "--lockfile", str(lock), "--offline", "--no-npm", "--format", "json"]
    out = ["--output", str(tmp_path / "r.json"), "--cache-dir", str(tmp_path / "flag")]
    assert main([*args, *out]) in (0, 1)
    assert [p.name.split("-")[0] for p in (tmp_path / "flag" / "bundled").glob("*.json")]
    assert not (tmp_path / "ignored-by-bundled" / "bundled").exists()
    knowledge_base.load_knowledge_base.cache_clear()


def test_bundled_yaml_is_read_from_its_fast_form(monkeypatch: pytest.MonkeyPatch) -> None:
    text = resources.files("depaudit.data").joinpath("scoring.yaml").read_text(encoding="utf-8")
    assert bundled.load_bundled_yaml("scoring.yaml") == yaml.safe_load(text)
    monkeypatch.setattr(bundled, "parse_bundled_yaml", lambda name, text: {"parsed": "again"})
    assert bundled.load_bundled_yaml("scoring.yaml") == yaml.safe_load(text)


def test_yaml_without_a_faithful_json_form_is_not_stored(data_copy: Path) -> None:
    (data_copy / "dated.yaml").write_text("when: 2024-01-02\n1: one\n")
    expected = {"when": datetime.date(2024, 1, 2), 1: "one"}
    assert bundled.load_bundled_yaml("dated.yaml") == expected
    assert bundled.load_bundled_yaml("dated.yaml") == expected
    assert _forms("yaml-dated.yaml") == []


def test_old_fast_forms_are_pruned(data_copy: Path) -> None:
    path = data_copy / "leak-cwes.yaml"
    text = path.read_text(encoding="utf-8")
    for n in range(bundled.KEEP + 3):
        path.write_text(f"{text}\n# edit {n}\n", encoding="utf-8")
        bundled.load_bundled_yaml("leak-cwes.yaml")
    assert len(_forms("yaml-leak-cwes.yaml")) == bundled.KEEP


def test_no_cache_neither_reads_nor_writes_fast_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--no-cache`` (app.scan calls use_fast_forms(False)): data/ is parsed every time."""
    built = _fresh_kb()
    (form,) = _forms("knowledge-base")
    form.unlink()
    bundled.use_fast_forms(False)
    assert _fresh_kb() == built
    assert bundled.load_bundled_yaml("scoring.yaml") == bundled.parse_bundled_yaml(
        "scoring.yaml", bundled.read_bundled("scoring.yaml")
    )
    assert _forms("knowledge-base") == []
    knowledge_base.load_knowledge_base.cache_clear()


def test_a_no_cache_scan_writes_no_fast_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import ASSETS
    from depaudit.cli import main

    monkeypatch.setenv("DEPAUDIT_CACHE_DIR", str(tmp_path / "cache"))
    lock = ASSETS / "projects" / "broken" / "package-lock.json"
    args = ["scan", "--lockfile", str(lock), "--offline", "--no-npm", "--format", "json"]
    knowledge_base.load_knowledge_base.cache_clear()
    assert main([*args, "--no-cache", "--output", str(tmp_path / "a.json")]) in (0, 1)
    assert not (tmp_path / "cache" / "bundled").exists()
    knowledge_base.load_knowledge_base.cache_clear()
    assert main([*args, "--output", str(tmp_path / "b.json")]) in (0, 1)
    assert _forms("knowledge-base") != []
    knowledge_base.load_knowledge_base.cache_clear()


# -- shipped fast forms: built by the install step (setup.py), read before the cache ---------


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Forms made by :func:`bundled.build_forms`, as the install step makes them, read as the
    installation's own (tests/conftest.py turns that off for every other test)."""
    folder = tmp_path / "shipped"
    made = bundled.build_forms(folder)
    assert sorted(p.name for p in made) == sorted(p.name for p in folder.iterdir())
    monkeypatch.setattr(bundled, "shipped_dir", lambda: folder)
    monkeypatch.setattr(bundled, "_read_shipped", True)
    bundled.use_fast_forms(True, tmp_path / "cache")
    return folder


def _no_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(name: str, text: str) -> object:
        raise AssertionError(f"{name} parsed although a fast form is there")

    monkeypatch.setattr(knowledge_base, "parse_bundled_yaml", refuse)
    monkeypatch.setattr(bundled, "parse_bundled_yaml", refuse)


def test_build_forms_makes_one_form_per_kind_a_run_reads(shipped: Path) -> None:
    kinds = sorted(p.name.rsplit("-", 1)[0] for p in shipped.iterdir())
    assert kinds == ["knowledge-base", "yaml-leak-cwes.yaml", "yaml-scoring.yaml"]


def test_shipped_forms_are_read_first_and_nothing_is_built_or_stored(
    shipped: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = knowledge_base.build_knowledge_base()
    scoring = bundled.parse_bundled_yaml("scoring.yaml", bundled.read_bundled("scoring.yaml"))
    _no_yaml(monkeypatch)
    assert _fresh_kb() == built
    assert bundled.load_bundled_yaml("scoring.yaml") == scoring
    assert not bundled.fast_form_dir().exists()
    knowledge_base.load_knowledge_base.cache_clear()


def test_no_cache_still_reads_the_shipped_forms(
    shipped: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """They are part of the installed package, not of the cache folder."""
    built = knowledge_base.build_knowledge_base()
    bundled.use_fast_forms(False)
    _no_yaml(monkeypatch)
    assert _fresh_kb() == built
    knowledge_base.load_knowledge_base.cache_clear()


def test_a_shipped_form_of_other_data_is_not_read(shipped: Path, data_copy: Path) -> None:
    """A data file changed since the build: its form has another name, so the run builds
    (and caches) the form of the data it has."""
    path = data_copy / "known-leaks.yaml"
    first = knowledge_base.build_knowledge_base().entries[0]
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(f"id: {first.id}\n", f"id: {first.id}-edited\n"), encoding="utf-8")
    after = _fresh_kb()
    assert after.entries[0].id == f"{first.id}-edited"
    assert len(_forms("knowledge-base")) == 1  # built into the cache folder
    knowledge_base.load_knowledge_base.cache_clear()


@pytest.mark.parametrize("damage", [b"{not json", b'{"key": "other", "value": 1}'])
def test_a_damaged_shipped_form_is_passed_over(shipped: Path, damage: bytes) -> None:
    built = knowledge_base.build_knowledge_base()
    (form,) = shipped.glob("knowledge-base-*.json")
    form.write_bytes(damage)
    assert _fresh_kb() == built
    assert len(_forms("knowledge-base")) == 1  # built and cached; the shipped one untouched
    assert form.read_bytes() == damage
    knowledge_base.load_knowledge_base.cache_clear()


def test_build_forms_never_reads_an_older_build(shipped: Path) -> None:
    """Building again where the forms are already shipped (and read first at run time) still
    builds every one of them, and leaves the run's settings as they were."""
    before = sorted(p.name for p in shipped.iterdir())
    remade = bundled.build_forms(shipped)
    assert sorted(p.name for p in remade) == before
    assert all(json.loads(p.read_bytes())["key"] in p.name for p in remade)
    assert bundled._read_shipped is True and bundled.fast_form_dir().parent.name == "cache"


def test_shipped_forms_are_readable_by_every_user(shipped: Path) -> None:
    """An installation made by root is read by others: the forms are not left 0600."""
    assert {oct(p.stat().st_mode & 0o777) for p in shipped.iterdir()} == {"0o644"}
