"""The base class of every strategy, built-in or your own, and the helpers strategies share.

Public and stable: your strategy files import it through :mod:`kash_tui.strategy_api` (see
``docs/strategies.md``). ``ParameterizedStrategy`` implements everything of the ``Strategy``
Protocol except the trading logic: parameter validation (pydantic errors turned into one readable
sentence), the schema, ``with_params`` and bar-array access. A strategy subclasses it with:

- ``id``: lower-case letters, digits and ``_`` (``my_breakout``), unique among all strategies;
  used on the command line and stored with every run, so do not change it once runs exist;
- ``name``, ``description``: what the lists show;
- ``default_timeframe``: one of ``TIMEFRAMES`` (``"1Day"``);
- ``Params``: a frozen pydantic model (``extra="forbid"``) whose every field has a default, a
  ``title`` and, for numbers, bounds (``ge``/``le``); its JSON Schema is the form;
- ``generate_signals(bars)``: one int8 per bar, ``BUY`` (+1), ``SELL`` (-1) or 0, the value at
  bar ``i`` from bars ``0..i`` only (no look-ahead), the same every time (no randomness, no
  clock, no I/O); vectorised numpy rather than a Python loop over bars;
- ``indicators(bars)``: the lines drawn with the chart, each aligned with the bars.

``kash strategies check ID`` runs these rules on a strategy.
"""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Self

import numpy as np
from pydantic import BaseModel, ValidationError

from kash_tui.domains.strategy.service import OHLCV, Indicator, StrategyError

__all__ = [
    "ParameterizedStrategy",
    "close_prices",
    "crossing_signals",
    "describe_validation_error",
]


class ParameterizedStrategy(ABC):
    """Base for strategies whose parameters are a frozen pydantic model (``Params``)."""

    id: ClassVar[str]
    name: ClassVar[str]
    description: ClassVar[str]
    default_timeframe: ClassVar[str]
    Params: ClassVar[type[BaseModel]]

    def __init__(self, params: BaseModel | None = None) -> None:
        if params is None:
            params = self.Params()
        elif not isinstance(params, self.Params):
            raise TypeError(f"{type(self).__name__} needs {self.Params.__name__}.")
        self._params = params

    @property
    def params(self) -> Any:
        return self._params

    @classmethod
    def params_schema(cls) -> dict[str, Any]:
        return cls.Params.model_json_schema()

    def with_params(self, params: Mapping[str, Any]) -> Self:
        if not isinstance(params, Mapping):
            raise StrategyError(
                f"Parameters for {self.id} must be a mapping of names to values "
                f"(got {type(params).__name__})."
            )
        _reject_booleans(params, self.Params)
        merged = {**self._params.model_dump(), **params}
        try:
            validated = self.Params.model_validate(merged)
        except ValidationError as exc:
            raise StrategyError(describe_validation_error(exc, self.id, self.Params)) from None
        return type(self)(validated)

    def __repr__(self) -> str:
        values = ", ".join(f"{k}={v!r}" for k, v in self._params.model_dump().items())
        return f"<{self.id} {values}>"

    @abstractmethod
    def generate_signals(self, bars: OHLCV) -> np.ndarray: ...

    @abstractmethod
    def indicators(self, bars: OHLCV) -> builtins.list[Indicator]: ...


def describe_validation_error(
    exc: ValidationError, strategy_id: str, model: type[BaseModel]
) -> str:
    """One sentence per problem, each naming its field: what pydantic found, made readable."""
    unknown = []
    sentences = []
    for error in exc.errors(include_url=False):
        loc = ".".join(str(part) for part in error["loc"])
        message = error["msg"].rstrip(".")
        if error["type"] == "extra_forbidden":
            unknown.append(f"'{loc}'")
        elif not loc:
            # a model_validator's ValueError: its message is already a full sentence
            sentences.append(message.removeprefix("Value error, ") + ".")
        else:
            sentences.append(f"{loc}: {message} (got {error['input']!r}).")
    if unknown:
        noun = "parameter" if len(unknown) == 1 else "parameters"
        known = ", ".join(model.model_fields)
        sentences.insert(
            0,
            f"Unknown {noun} {_join(unknown)} for {strategy_id}; valid parameters are {known}.",
        )
    return " ".join(sentences)


def _join(items: builtins.list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _reject_booleans(params: Mapping[str, Any], model: type[BaseModel]) -> None:
    """pydantic's lax mode reads True as 1; for a number parameter that is a mistake."""
    for key, value in params.items():
        field = model.model_fields.get(key)
        if isinstance(value, bool) and field is not None and field.annotation is not bool:
            raise StrategyError(f"{key}: Input should be a number, not {value!r}.")


def close_prices(bars: OHLCV) -> np.ndarray:
    return np.asarray(bars.close, dtype=np.float64)


def crossing_signals(
    above: np.ndarray, at_or_below: np.ndarray, below: np.ndarray, at_or_above: np.ndarray
) -> np.ndarray:
    """int8 signals from a line's per-bar position relative to what it crosses.

    ``BUY`` at bar ``i`` when ``above[i]`` and ``at_or_below[i-1]``; ``SELL`` when ``below[i]``
    and ``at_or_above[i-1]``. Make the four comparisons with ``>``, ``<=``, ``<``, ``>=`` so that
    an undefined (NaN) bar is in none of them and never takes part in a crossing. Bar 0 never
    signals. The buy and sell comparisons may be against different levels (MFI's oversold and
    overbought); a bar cannot be both above and below, so it never gets both signals.
    """
    signals = np.zeros(len(above), dtype=np.int8)
    if len(above) < 2:
        return signals
    up = np.logical_and(above[1:], at_or_below[:-1])
    down = np.logical_and(below[1:], at_or_above[:-1])
    np.subtract(up.view(np.int8), down.view(np.int8), out=signals[1:])
    return signals
