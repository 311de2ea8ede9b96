"""The one loader of the data bundled with depaudit (``data/`` in the repository, the package
``depaudit.data`` once installed): the knowledge base, the scoring weights and the advisory
classification rules are all read through :func:`load_bundled_yaml`.

Bundled YAML is ours, so it is read with YAML's safe loader (the C one when PyYAML has it);
a missing or broken file is a :class:`BundledDataError` naming the file.

``data/`` is the one source of truth, but parsing it is most of the start-up of a short run
(PyYAML's import alone costs more than the rest of an offline scan of a small project). So
what is built from it is kept in a *fast form*: JSON in ``<cache>/bundled/`` (``<cache>`` is
the run's ``--cache-dir``, which ``DEPAUDIT_CACHE_DIR`` sets, or the user cache folder, as
the entry points say through :func:`use_fast_forms`), named by a hash of everything it was built
from: the data files' bytes and, for forms built by code, the source of that code. Changing a
data file or the code makes a new name, so the form is rebuilt from ``data/`` on the next run;
a missing, unreadable or corrupt form is rebuilt too, and a cache folder that cannot be
written only costs the time (like Python's ``__pycache__``). ``--no-cache`` turns them off
(:func:`use_fast_forms`): data/ is then parsed on every run.

An installation also *ships* them: the build step (``setup.py``, :func:`build_forms`) runs
every loader of :data:`FORM_LOADERS` and puts the forms it made in ``depaudit/_forms/`` (in
the wheel; in ``src/depaudit/_forms/`` for an editable install), named by the same hash. A run
reads a shipped form first, so even its first run with an empty cache folder (a CI runner's)
parses no YAML: ~0.05 s of a small project's offline scan, ~0.1 s of CPU of a cold one. They
are part of the installed package, not of the cache, so ``--no-cache`` reads them too; a
shipped form whose data or code changed since the build has another name and is not read.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from importlib import import_module
from pathlib import Path
from typing import Any, TypeVar

from depaudit import digests
from depaudit.errors import ConfigError

PACKAGE = "depaudit.data"
#: bump when the layout of every fast form changes
FORM_VERSION = 1
#: fast forms of one kind kept in the folder (the newest; older data or code made the rest)
KEEP = 4

T = TypeVar("T")

#: off under ``--no-cache`` (:func:`use_fast_forms`): then data/ is read on every use
_enabled = True
#: the cache root the fast forms live under (``--cache-dir``); None: the user cache folder
_root: Path | None = None

#: the folder of the shipped fast forms, beside the package's modules
SHIPPED = "_forms"
#: off while :func:`build_forms` builds them
_read_shipped = True
#: every loader that reads a fast form at run time (``module:attribute.path``), in the order
#: :func:`build_forms` runs them; a test holds a scan to reading none but these
FORM_LOADERS = (
    "depaudit.services.knowledge_base:load_knowledge_base",
    "depaudit.classify:default_rules",
    "depaudit.scoring.weights:Weights.bundled",
)


def use_fast_forms(enabled: bool, root: Path | None = None) -> None:
    """Read and write fast forms (the default) or neither (``--no-cache``), under ``root``
    (the run's ``--cache-dir``, which ``DEPAUDIT_CACHE_DIR`` sets through the options) or,
    when it is None, the user cache folder. Called by the entry points (cli, app.scan), so
    no environment is read here."""
    global _enabled, _root
    _enabled = enabled
    _root = root


class BundledDataError(ConfigError):
    """A bundled data file is missing from the installation or is not valid YAML."""


class Unstorable(Exception):
    """Raised by an ``encode`` of :func:`fast_form`: this value has no faithful JSON form."""


def _data_dir() -> Path | None:
    """The folder of ``depaudit.data`` when it is a plain folder (always, but for zip installs)."""
    location = getattr(import_module(PACKAGE), "__file__", None)
    return Path(location).parent if location else None


def read_bundled_bytes(name: str) -> bytes:
    """The bytes of ``data/<name>``."""
    folder = _data_dir()
    try:
        if folder is not None:
            with contextlib.suppress(FileNotFoundError):
                return (folder / name).read_bytes()
        from importlib import resources  # (a zip install's only: 5 modules a run need not load)

        return resources.files(PACKAGE).joinpath(name).read_bytes()
    except (FileNotFoundError, ModuleNotFoundError) as exc:
        raise BundledDataError(f"{name}: missing from the installed package ({exc})") from None


def read_bundled(name: str) -> str:
    """The text of ``data/<name>``."""
    data = read_bundled_bytes(name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundledDataError(f"{name}: not UTF-8 ({exc})") from None


def safe_loader() -> Any:
    """libyaml's safe loader when PyYAML has it (a profile hot spot), else the pure one."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_bundled_yaml(name: str, text: str) -> Any:
    """``text`` (the content of ``data/<name>``) parsed with the safe loader."""
    import yaml

    try:
        return yaml.load(text, Loader=safe_loader())  # noqa: S506 (safe loader)
    except yaml.YAMLError as exc:
        raise BundledDataError(f"{name}: not valid YAML ({exc})") from None


def _faithful_json(value: Any) -> Any:
    """``value`` when JSON gives it back unchanged (YAML dates or integer keys would not be)."""
    try:
        same = json.loads(json.dumps(value)) == value
    except (TypeError, ValueError):
        same = False
    if not same:
        raise Unstorable
    return value


def load_bundled_yaml(name: str) -> Any:
    """``data/<name>`` parsed (from its fast form when the file has not changed)."""
    return fast_form(
        f"yaml-{name}",
        [name],
        (),
        lambda: parse_bundled_yaml(name, read_bundled(name)),
        _faithful_json,
    )


def fast_form_dir() -> Path:
    """``<cache>/bundled``: under the root given to :func:`use_fast_forms` (``--cache-dir``)
    or the user cache folder."""
    root = _root
    if root is None:
        import platformdirs

        root = Path(platformdirs.user_cache_dir("depaudit", appauthor=False))
    return root / "bundled"


def form_key(kind: str, data_names: Iterable[str], code: Iterable[str]) -> str:
    """The hash naming a fast form: the data files' bytes, the source files of the modules in
    ``code`` (imported already by the caller), the form and JSON layout versions."""
    digest = digests.blake2b(digest_size=16)
    digest.update(f"{kind}\0{FORM_VERSION}\0".encode())
    for name in data_names:
        data = read_bundled_bytes(name)
        digest.update(f"data {name} {len(data)}\0".encode())
        digest.update(data)
    for module in code:
        source = Path(sys.modules[module].__file__ or "").read_bytes()
        digest.update(f"code {module} {len(source)}\0".encode())
        digest.update(source)
    return digest.hexdigest()


def fast_form(
    kind: str,
    data_names: Iterable[str],
    code: Iterable[str],
    build: Callable[[], Any],
    encode: Callable[[Any], Any] = lambda value: value,
    decode: Callable[[Any], T] = lambda value: value,
) -> T:
    """``decode`` of the stored fast form of ``kind``, or ``build()`` from ``data/`` (stored
    as ``encode(value)``, which must be JSON) when there is none for this data and code yet.

    ``decode`` gets the JSON value back (lists for tuples); whatever it raises on a form it
    does not understand (ValueError, TypeError, KeyError) makes the form be rebuilt. An
    ``encode`` that raises :class:`Unstorable` keeps the value from being stored.
    """
    key = form_key(kind, data_names, code)
    name = f"{kind}-{key}.json"
    shipped = shipped_dir() if _read_shipped else None
    folders = [shipped] if shipped is not None else []
    if _enabled:
        folder = fast_form_dir()
        path = folder / name
        folders.append(folder)
    for place in folders:
        try:
            stored = json.loads((place / name).read_bytes())
            if isinstance(stored, dict) and stored.get("key") == key:
                return decode(stored["value"])
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            pass  # missing or damaged: the next place, or rebuilt below
    value = build()
    try:
        encoded = encode(value)
    except Unstorable:
        return value  # type: ignore[no-any-return]
    if _enabled:
        _store(folder, path, {"key": key, "value": encoded})
    return decode(encoded)


def shipped_dir() -> Path | None:
    """``depaudit/_forms``, where the build step put the fast forms (None where the package
    has no file; in a zip, a path nothing is read from)."""
    location = getattr(sys.modules.get("depaudit"), "__file__", None) or ""
    return Path(location).parent / SHIPPED if location else None


def build_forms(target: Path) -> list[Path]:
    """The build step: every fast form of :data:`FORM_LOADERS`, built from ``data/`` and
    written into ``target`` (made if missing; nothing else there changes). Returns them."""
    global _read_shipped
    was = (_enabled, _root, _read_shipped)
    with tempfile.TemporaryDirectory() as scratch:
        use_fast_forms(True, Path(scratch))
        _read_shipped = False  # built anew, never read back from an older build
        try:
            for dotted in FORM_LOADERS:
                load = _loader(dotted)
                clear = getattr(load, "cache_clear", None)
                if clear is not None:
                    clear()
                load()
                if clear is not None:
                    clear()
        finally:
            use_fast_forms(was[0], was[1])
            _read_shipped = was[2]
        target.mkdir(parents=True, exist_ok=True)
        made = []
        for form in sorted((Path(scratch) / "bundled").glob("*.json")):
            shipped = Path(shutil.copyfile(form, target / form.name))
            shipped.chmod(0o644)  # (stored 0600, as a cache's are): every user reads them
            made.append(shipped)
        return made


def _loader(dotted: str) -> Callable[[], Any]:
    module, _, attributes = dotted.partition(":")
    found: Any = import_module(module)
    for attribute in attributes.split("."):
        found = getattr(found, attribute)
    return found  # type: ignore[no-any-return]


def _store(folder: Path, path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` to ``path`` atomically; any failure leaves no form (no error)."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return
    _prune(folder, path.name.rsplit("-", 1)[0])


def _prune(folder: Path, kind: str) -> None:
    """Keep the :data:`KEEP` newest forms of ``kind`` (older data or code made the others)."""
    with contextlib.suppress(OSError):
        forms = [p for p in folder.glob(f"{kind}-*.json") if p.name.rsplit("-", 1)[0] == kind]
        forms.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for old in forms[KEEP:]:
            old.unlink()
