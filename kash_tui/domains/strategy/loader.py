"""Finding strategies beyond the built-ins: installed packages and the strategies folders.

Order (the first of an id wins; a later one with the same id is a failure):

1. entry points of the group ``kash.strategies`` of installed packages. An entry point names a
   strategy class (``my_pkg.breakout:Breakout``), a list of them, or a module (every strategy
   class defined in it);
2. ``*.py`` files in each strategies folder, in folder order then by file name. Files whose name
   starts with ``_`` are skipped (helpers, ``__init__.py``). A file defines its strategies as
   subclasses of ``ParameterizedStrategy`` (or lists them in ``STRATEGIES``).

Every strategy found must keep the contract (:func:`checks.contract_problem`). A file that does
not import, raises, or breaks the contract becomes a ``StrategyFailure`` with one sentence and
its file and line; nothing here raises. A file is imported afresh on every load (module name
``kash_user_strategy_<stem>``), so a reload picks up its edits.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from kash_tui.domains.strategy.base import ParameterizedStrategy
from kash_tui.domains.strategy.checks import (
    contract_problem,
    definition_line,
    exception_sentence,
    raised_at,
    source_file,
)
from kash_tui.domains.strategy.service import Strategy, StrategyFactory, StrategyFailure

ENTRY_POINT_GROUP = "kash.strategies"
MODULE_PREFIX = "kash_user_strategy_"


@dataclass(frozen=True)
class Loaded:
    """A strategy that passed the contract, and where it came from."""

    factory: StrategyFactory
    source: str
    file: str | None


@dataclass
class LoadResult:
    loaded: list[Loaded] = field(default_factory=list)
    failures: list[StrategyFailure] = field(default_factory=list)


def load_strategies(
    folders: Sequence[Path], *, taken: Iterable[str] = (), entry_points: bool = True
) -> LoadResult:
    """Entry points, then the files of ``folders``; ``taken``: ids already registered."""
    result = LoadResult()
    seen: dict[str, str] = {sid: "a built-in strategy" for sid in taken}
    if entry_points:
        for source, factories, failure in _from_entry_points():
            _admit(result, seen, factories, source, failure)
    for path in strategy_files(folders):
        factories, failure = _from_file(path)
        _admit(result, seen, factories, "file", failure, path)
    return result


def strategy_files(folders: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    seen: set[Path] = set()
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.py")):
            resolved = path.resolve()
            if path.name.startswith("_") or resolved in seen:
                continue
            seen.add(resolved)
            files.append(path)
    return files


def _admit(
    result: LoadResult,
    seen: dict[str, str],
    factories: list[Any],
    source: str,
    failure: StrategyFailure | None,
    path: Path | None = None,
) -> None:
    if failure is not None:
        result.failures.append(failure)
        return
    for factory in factories:
        file = str(path) if path is not None else source_file(factory)
        label = getattr(factory, "__name__", repr(factory))
        try:
            strategy: Strategy = factory()
        except Exception as exc:  # noqa: BLE001 - a user's class may raise anything
            result.failures.append(StrategyFailure(
                label, source, f"Creating {label}() with its defaults raised "
                f"{exception_sentence(exc)}; fix the class or its Params defaults.",
                file, raised_at(exc, file) or definition_line(factory)))
            continue
        problem = contract_problem(strategy, file)
        sid = getattr(strategy, "id", None)
        name = sid if isinstance(sid, str) and sid else label
        if problem is not None:
            result.failures.append(StrategyFailure(name, source, problem.sentence, file,
                                                   problem.line))
            continue
        if sid in seen:
            result.failures.append(StrategyFailure(
                name, source, f"Its id '{sid}' is already taken by {seen[sid]}; give this "
                "strategy a different id.", file, definition_line(factory)))
            continue
        seen[sid] = f"{source} {file}" if source == "file" else source
        result.loaded.append(Loaded(factory, source, file))


# -- files -----------------------------------------------------------------------------------


def _from_file(path: Path) -> tuple[list[Any], StrategyFailure | None]:
    name = MODULE_PREFIX + "".join(c if c.isalnum() else "_" for c in path.stem)
    file = str(path)
    for loaded_name in [n for n in sys.modules if n == name or n.startswith(name + ".")]:
        del sys.modules[loaded_name]  # a reload imports the file afresh
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot read {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # pydantic resolves annotations through sys.modules
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(name, None)
        return [], StrategyFailure(path.stem, "file", f"The file has a syntax error "
                                   f"({exc.msg}); fix it and reload.", file, exc.lineno)
    except ImportError as exc:
        sys.modules.pop(name, None)
        missing = getattr(exc, "name", None)
        sentence = (f"It imports '{missing}', which is not installed; install it into Kash's "
                    "environment or remove the import." if isinstance(exc, ModuleNotFoundError)
                    and missing else f"An import failed ({exception_sentence(exc)}); fix the "
                    "import.")
        return [], StrategyFailure(path.stem, "file", sentence, file, raised_at(exc, file))
    except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt from a file too
        sys.modules.pop(name, None)
        if isinstance(exc, KeyboardInterrupt):
            raise
        return [], StrategyFailure(path.stem, "file", f"Importing it raised "
                                   f"{exception_sentence(exc)}; fix the file.", file,
                                   raised_at(exc, file))
    factories = strategies_in(module)
    if not factories:
        abstract = [
            obj for obj in vars(module).values()
            if inspect.isclass(obj) and issubclass(obj, ParameterizedStrategy)
            and obj.__module__ == module.__name__
        ]
        if abstract:
            cls = abstract[0]
            missing = " and ".join(sorted(getattr(cls, "__abstractmethods__", ())))
            return [], StrategyFailure(
                path.stem, "file", f"{cls.__name__} does not define {missing}; a strategy "
                "needs both generate_signals and indicators (an empty list draws nothing).",
                file, definition_line(cls))
        return [], StrategyFailure(
            path.stem, "file", "It defines no strategy; subclass ParameterizedStrategy from "
            "kash_tui.strategy_api (see docs/strategies.md or `kash strategies new`).", file, 1)
    return factories, None


def strategies_in(module: ModuleType) -> list[Any]:
    """The strategies a module defines: its ``STRATEGIES`` list if it has one, else every
    concrete ``ParameterizedStrategy`` subclass defined in it, in the order of the source."""
    listed = getattr(module, "STRATEGIES", None)
    if listed is not None:
        return list(listed) if isinstance(listed, list | tuple) else [listed]
    found = [
        obj for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, ParameterizedStrategy)
        and obj.__module__ == module.__name__ and not inspect.isabstract(obj)
    ]
    return sorted(found, key=lambda cls: definition_line(cls) or 0)


# -- entry points ----------------------------------------------------------------------------


def _from_entry_points() -> Iterable[tuple[str, list[Any], StrategyFailure | None]]:
    from importlib.metadata import entry_points

    try:
        found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
    except Exception:  # noqa: BLE001 - broken metadata of some package: no entry points
        return
    for ep in found:
        dist = getattr(ep, "dist", None)
        source = f"entry point {ep.name}" + (f" ({dist.name})" if dist is not None else "")
        try:
            obj = ep.load()
        except BaseException as exc:  # noqa: BLE001
            if isinstance(exc, KeyboardInterrupt):
                raise
            file = _traceback_file(exc)
            yield source, [], StrategyFailure(
                ep.name, source, f"Loading {ep.value} raised {exception_sentence(exc)}; "
                "reinstall or fix that package.", file, raised_at(exc, file))
            continue
        if inspect.ismodule(obj):
            factories = strategies_in(obj)
        elif isinstance(obj, list | tuple):
            factories = list(obj)
        else:
            factories = [obj]
        bad = next((f for f in factories if not callable(f)), None)
        if not factories or bad is not None:
            yield source, [], StrategyFailure(
                ep.name, source, f"{ep.value} is not a strategy class, a list of them or a "
                "module defining them; point the entry point at one.", None, None)
            continue
        yield source, factories, None


def _traceback_file(exc: BaseException) -> str | None:
    frames = [frame for frame, _line in traceback.walk_tb(exc.__traceback__)]
    return frames[-1].f_code.co_filename if frames else None


__all__ = ["ENTRY_POINT_GROUP", "LoadResult", "Loaded", "load_strategies", "strategies_in"]
