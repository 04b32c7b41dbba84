"""The checks a careful quant runs on someone else's strategy, and the contract a strategy must
keep to be loaded at all.

``run_checks`` gives a verdict per check (``kash strategies check``, the app's Strategies place):

- **look-ahead**: the signals (and indicators) of the series cut at bar ``k`` must equal those of
  the full series up to ``k``. Cuts are taken right after bars where the full series signals
  (a strategy that peeks one or a few bars ahead loses exactly those signals when the bars it
  peeks at are cut off) and at evenly spaced bars (signals that appear only on a cut series).
- **determinism**: the same bars give the same signals and indicators twice, also from a fresh
  instance of the strategy.
- **shape**: one signal per bar, values in {-1, 0, 1} (int8 expected), no NaN, every indicator
  aligned with the bars; also on series of 1, 2 and 3 bars (a backtest over a few bars).
- **schema**: the defaults validate; every field has a default and a title, and every number
  field a lower and an upper bound (the form and sweeps need them).
- **speed**: the time of ``generate_signals`` per 100,000 bars (best of three), and whether it
  loops in Python over bars. That heuristic does not time anything: it counts the Python lines
  executed (``sys.settrace``) on 2,000 and on 4,000 bars. Vectorised numpy code runs the same
  few lines whatever the length; a loop over bars runs its body once more per added bar, so the
  count grows with the bars. It is a warning, naming the busiest line; so is a time above
  ``SLOW_SECONDS_PER_100K`` without such a loop.

``contract_problem`` is the smaller test the loader applies to every strategy before listing
it: identity fields, a schema, defaults that validate, and signals and indicators of the right
shape on a short synthetic series.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import CodeType, FrameType, TracebackType
from typing import Any

import numpy as np

from kash_tui.domains.strategy.service import (
    OHLCV,
    TIMEFRAMES,
    CheckReport,
    CheckResult,
    CheckVerdict,
    Indicator,
    Strategy,
)

SYNTHETIC_BARS = 100_000
SYNTHETIC_SEED = 20261204
CONTRACT_BARS = 300
SLOW_SECONDS_PER_100K = 0.25
"""Above this, ``speed`` warns even without a Python loop (a vectorised strategy takes a few
milliseconds per 100,000 bars)."""
LOOP_LINES_PER_BAR = 0.5
"""``speed`` warns when the Python lines executed grow by at least this many per added bar."""
LOOKAHEAD_CUTS = 48
LOOKAHEAD_BUDGET_SECONDS = 8.0

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,47}$")

PASS, WARN, FAIL = CheckVerdict.PASS, CheckVerdict.WARN, CheckVerdict.FAIL


# -- bars ------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Bars:
    """Plain OHLCV arrays (the checks cut and copy series; market's series is not needed)."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return len(self.close)

    @classmethod
    def of(cls, bars: OHLCV) -> Bars:
        arrays = (bars.open, bars.high, bars.low, bars.close, bars.volume)
        return cls(*(np.asarray(a, dtype=np.float64) for a in arrays))

    def cut(self, k: int) -> Bars:
        """The first ``k`` bars, as fresh copies (a strategy cannot reach past them)."""
        return Bars(*(a[:k].copy() for a in self._arrays()))

    def copy(self) -> Bars:
        return Bars(*(a.copy() for a in self._arrays()))

    def _arrays(self) -> tuple[np.ndarray, ...]:
        return (self.open, self.high, self.low, self.close, self.volume)


def synthetic_bars(n: int = SYNTHETIC_BARS, seed: int = SYNTHETIC_SEED) -> Bars:
    """A deterministic random walk of ``n`` daily-like bars (the same for the same seed): log
    returns with changing volatility and drift, so trend and range strategies both trade."""
    rng = np.random.default_rng(seed)
    regime = np.repeat(rng.uniform(0.005, 0.03, size=n // 500 + 1), 500)[:n]
    drift = np.repeat(rng.normal(0.0, 0.002, size=n // 700 + 1), 700)[:n]
    returns = rng.normal(drift, regime)
    close = 100.0 * np.exp(np.cumsum(returns))
    open_ = np.empty(n)
    if n:
        open_[0] = 100.0
        open_[1:] = close[:-1] * np.exp(rng.normal(0.0, regime[1:] / 4))
    spread = np.abs(rng.normal(0.0, regime, size=n)) * close
    high = np.maximum(open_, close) + spread
    low = np.maximum(np.minimum(open_, close) - spread, 0.01)
    volume = np.round(rng.lognormal(12.0, 0.6, size=n))
    return Bars(open_, high, low, close, volume)


def synthetic_label(n: int, seed: int = SYNTHETIC_SEED) -> str:
    return f"synthetic random walk (seed {seed}), {n:,} bars: not market data"


# -- where a problem is ----------------------------------------------------------------------


def source_file(obj: Any) -> str | None:
    try:
        return inspect.getsourcefile(obj if inspect.isclass(obj) else type(obj))
    except (TypeError, OSError):
        return None


def definition_line(obj: Any, method: str | None = None) -> int | None:
    """The line that defines the strategy's class (or its ``method``)."""
    target = obj if inspect.isclass(obj) else type(obj)
    if method is not None:
        target = getattr(target, method, target)
    try:
        return inspect.getsourcelines(target)[1]
    except (TypeError, OSError):
        return None


def raised_at(exc: BaseException, file: str | None) -> int | None:
    """The line in ``file`` nearest to where ``exc`` was raised (a syntax error's own line)."""
    if isinstance(exc, SyntaxError) and exc.lineno:
        return exc.lineno
    tb: TracebackType | None = exc.__traceback__
    line = None
    for frame, lineno in traceback.walk_tb(tb):
        if file is not None and frame.f_code.co_filename == file:
            line = lineno
    return line


def exception_sentence(exc: BaseException) -> str:
    text = str(exc).strip().rstrip(".")
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


@dataclass(frozen=True)
class Problem:
    """One sentence and the line of the strategy's file it points at."""

    sentence: str
    line: int | None = None


# -- signals ---------------------------------------------------------------------------------


def signal_problem(signals: object, n: int) -> str | None:
    """Why ``signals`` are not one value in {-1, 0, 1} per bar of ``n`` bars, or None."""
    if not isinstance(signals, np.ndarray):
        return (f"generate_signals returned a {type(signals).__name__}, not a numpy array; "
                "return np.ndarray of -1, 0 and 1, one per bar.")
    if signals.ndim != 1 or signals.shape[0] != n:
        got = signals.shape[0] if signals.ndim == 1 else f"an array of shape {signals.shape}"
        return (f"generate_signals returned {got} signals for {n} bars; "
                "return exactly one signal per bar.")
    kind = signals.dtype.kind
    if kind not in "iubf":
        return (f"generate_signals returned values of type {signals.dtype}; "
                "return numbers: 1 (buy), -1 (sell) or 0 (nothing).")
    if kind == "b" or n == 0:
        return None
    if kind == "f":
        nan = np.isnan(signals)
        if nan.any():
            k = int(np.argmax(nan))
            return (f"generate_signals returned NaN at bar {k}; return 0 where there is no "
                    "signal (e.g. np.nan_to_num or comparisons that are False on NaN).")
    bad = (signals != 0) & (signals != 1) & (signals != -1)
    if bad.any():
        k = int(np.argmax(bad))
        return (f"generate_signals returned {signals[k].item()!r} at bar {k}; "
                "signals must be 1 (buy), -1 (sell) or 0 (nothing).")
    return None


def indicator_problem(indicators: object, n: int) -> str | None:
    """Why ``indicators`` are not a list of ``Indicator`` aligned with ``n`` bars, or None."""
    if not isinstance(indicators, list | tuple):
        return (f"indicators returned a {type(indicators).__name__}; return a list of "
                "Indicator (an empty list if there is nothing to draw).")
    for item in indicators:
        if not isinstance(item, Indicator):
            return (f"indicators returned a {type(item).__name__} in its list; return "
                    "Indicator(name, values, panel) objects.")
        values = np.asarray(item.values)
        if values.ndim != 1 or values.shape[0] != n:
            got = values.shape[0] if values.ndim == 1 else f"shape {values.shape}"
            return (f"Indicator '{item.name}' has {got} values for {n} bars; "
                    "give one value per bar (NaN where undefined).")
        if values.dtype.kind not in "iuf":
            return (f"Indicator '{item.name}' has values of type {values.dtype}; "
                    "give float64 numbers (NaN where undefined).")
    return None


# -- the loader's contract -------------------------------------------------------------------


def identity_problem(strategy: Strategy) -> str | None:
    sid = getattr(strategy, "id", None)
    if not isinstance(sid, str) or not ID_PATTERN.match(sid):
        return (f"Its id {sid!r} is not usable; give it an id of lower-case letters, digits "
                "and _ that starts with a letter, e.g. 'my_breakout'.")
    for attr in ("name", "description"):
        value = getattr(strategy, attr, None)
        if not isinstance(value, str) or not value.strip():
            return f"Strategy '{sid}' has no {attr}; give it a {attr} as text."
    if strategy.default_timeframe not in TIMEFRAMES:
        return (f"Strategy '{sid}' has default_timeframe {strategy.default_timeframe!r}; "
                f"use one of {', '.join(TIMEFRAMES)}.")
    return None


def contract_problem(strategy: Strategy, file: str | None) -> Problem | None:
    """Why ``strategy`` (default parameters) cannot be loaded, or None. Never raises."""
    step = "its identity"
    try:
        if (sentence := identity_problem(strategy)) is not None:
            return Problem(sentence, definition_line(strategy))
        step = "params_schema"
        schema = strategy.params_schema()
        if not isinstance(schema, dict) or not isinstance(schema.get("properties", {}), dict):
            return Problem(f"params_schema of '{strategy.id}' is not a JSON Schema object; "
                           "define Params as a pydantic model.", definition_line(strategy))
        json.dumps(schema)
        step = "with_params"
        strategy = strategy.with_params({})
        bars = synthetic_bars(CONTRACT_BARS, seed=7)
        step = "generate_signals"
        signals = strategy.generate_signals(bars)
        if (sentence := signal_problem(signals, len(bars))) is not None:
            return Problem(sentence, definition_line(strategy, "generate_signals"))
        step = "indicators"
        indicators = strategy.indicators(bars)
        if (sentence := indicator_problem(indicators, len(bars))) is not None:
            return Problem(sentence, definition_line(strategy, "indicators"))
    except Exception as exc:  # noqa: BLE001 - a user's strategy may raise anything
        line = raised_at(exc, file) or definition_line(strategy)
        if step == "with_params":
            return Problem(f"Its default parameters do not validate ({exception_sentence(exc)}); "
                           "give every field of Params a valid default.", line)
        if step == "params_schema" and isinstance(exc, TypeError | ValueError):
            return Problem(f"Its parameters have no JSON Schema ({exception_sentence(exc)}); "
                           "use plain field types (int, float, bool, Literal, Enum).", line)
        return Problem(f"{step} raised {exception_sentence(exc)} on {CONTRACT_BARS} "
                       "synthetic bars; fix the strategy.", line)
    return None


# -- the checks ------------------------------------------------------------------------------


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def _first_difference(a: np.ndarray, b: np.ndarray) -> int:
    n = min(len(a), len(b))
    a, b = np.asarray(a[:n], dtype=np.float64), np.asarray(b[:n], dtype=np.float64)
    differ = ~((a == b) | (np.isnan(a) & np.isnan(b)))
    return int(np.argmax(differ)) if differ.any() else n


def check_lookahead(strategy: Strategy, bars: Bars, full: np.ndarray,
                    indicators: list[Indicator], seconds_per_run: float) -> CheckResult:
    n = len(bars)
    if n < 3:
        return CheckResult("look-ahead", WARN, f"Only {n} bars: too few to cut.")
    budget = max(8, min(LOOKAHEAD_CUTS,
                        int(LOOKAHEAD_BUDGET_SECONDS / max(seconds_per_run, 1e-6))))
    rng = np.random.default_rng(SYNTHETIC_SEED)
    signal_bars = np.flatnonzero(full[:-1])
    cuts: set[int] = set()
    if len(signal_bars):
        picked = rng.choice(signal_bars, size=min(budget // 2, len(signal_bars)), replace=False)
        for j in picked:  # right after a signal, and a few bars later
            cuts.add(int(j) + 1)
            cuts.add(min(n - 1, int(j) + 1 + int(rng.integers(1, 6))))
    for k in np.linspace(2, n - 1, num=max(2, budget - len(cuts)), dtype=int):
        cuts.add(int(k))
    cuts = {k for k in cuts if 1 <= k < n}
    for k in sorted(cuts):
        cut = bars.cut(k)
        signals = np.asarray(strategy.generate_signals(cut))
        if len(signals) == k and not _same(signals, full[:k]):
            j = _first_difference(signals, full)
            return CheckResult(
                "look-ahead", FAIL,
                f"The signal at bar {j:,} is {int(full[j])} on the full series but "
                f"{signals[j].item()!r} when the series ends at bar {k - 1:,}: it uses bars "
                "after its own; compute bar i from bars 0..i only (no shift(-1), "
                "no centred windows, no whole-series statistics).",
                (f"checked {len(cuts)} cuts; the first to differ ends at bar {k - 1:,}",),
            )
        for full_ind, cut_ind in zip(indicators, strategy.indicators(cut), strict=False):
            values = np.asarray(cut_ind.values)
            if len(values) == k and not _same(values, np.asarray(full_ind.values)[:k]):
                j = _first_difference(values, np.asarray(full_ind.values))
                return CheckResult(
                    "look-ahead", FAIL,
                    f"Indicator '{full_ind.name}' at bar {j:,} changes when the series ends at "
                    f"bar {k - 1:,}: it uses bars after its own; compute bar i from bars 0..i "
                    "only.",
                    (f"checked {len(cuts)} cuts",),
                )
    return CheckResult(
        "look-ahead", PASS,
        f"Signals and indicators on the series cut at {len(cuts)} points (right after "
        f"{min(len(signal_bars), budget // 2)} signals and evenly spaced) equal the full "
        "series' up to each cut.")


def check_determinism(strategy: Strategy, bars: Bars, full: np.ndarray,
                      indicators: list[Indicator]) -> CheckResult:
    fresh = strategy.with_params({})
    again = np.asarray(strategy.generate_signals(bars.copy()))
    other = np.asarray(fresh.generate_signals(bars.copy()))
    for label, signals in (("a second time", again), ("from a fresh instance", other)):
        if not _same(signals, full):
            j = _first_difference(signals, full)
            return CheckResult(
                "determinism", FAIL,
                f"The same bars gave a different signal at bar {j:,} {label}: the strategy "
                "depends on something besides the bars (random numbers, the clock, state "
                "kept between calls); make it a pure function of the bars and parameters.")
    for first, second in zip(indicators, fresh.indicators(bars.copy()), strict=False):
        if not _same(np.asarray(first.values), np.asarray(second.values)):
            return CheckResult(
                "determinism", FAIL,
                f"Indicator '{first.name}' differs between two runs on the same bars; make it a "
                "pure function of the bars and parameters.")
    return CheckResult("determinism", PASS,
                       "The same bars gave the same signals and indicators three times.")


def check_shape(strategy: Strategy, bars: Bars, full: object,
                indicators: object) -> CheckResult:
    n = len(bars)
    if (sentence := signal_problem(full, n)) is not None:
        return CheckResult("shape", FAIL, sentence)
    if (sentence := indicator_problem(indicators, n)) is not None:
        return CheckResult("shape", FAIL, sentence)
    for k in (1, 2, 3):
        if k > n:
            break
        cut = bars.cut(k)
        try:
            short = strategy.generate_signals(cut)
            short_indicators = strategy.indicators(cut)
        except Exception as exc:  # noqa: BLE001
            return CheckResult("shape", FAIL,
                               f"On a series of {k} bar{'s' if k > 1 else ''} it raised "
                               f"{exception_sentence(exc)}; return 0 for bars without enough "
                               "history instead.")
        problem = signal_problem(short, k) or indicator_problem(short_indicators, k)
        if problem is not None:
            return CheckResult("shape", FAIL, f"On a series of {k} bars: {problem}")
    assert isinstance(full, np.ndarray)
    counts = f"{int((full == 1).sum()):,} buys and {int((full == -1).sum()):,} sells"
    if full.dtype != np.int8:
        return CheckResult("shape", WARN,
                           f"Signals are {full.dtype}, not int8 (they work, but take "
                           f"{full.dtype.itemsize}x the memory); {counts}.")
    drawn = len(indicators) if isinstance(indicators, list | tuple) else 0
    return CheckResult("shape", PASS,
                       f"One int8 signal per bar in {{-1, 0, 1}}, no NaN ({counts}); "
                       f"{drawn} indicator{'s' if drawn != 1 else ''} aligned with the bars.")


def _fields(n: int) -> str:
    return "its one field has" if n == 1 else f"all {n} fields have"


def _bound_problem(name: str, prop: dict[str, Any]) -> str | None:
    low = "minimum" in prop or "exclusiveMinimum" in prop
    high = "maximum" in prop or "exclusiveMaximum" in prop
    if low and high:
        return None
    missing = "bounds" if not (low or high) else "a lower bound" if not low else "an upper bound"
    return f"{name} is a number without {missing}"


def _numeric(prop: dict[str, Any]) -> bool:
    kinds = [prop.get("type")] + [p.get("type") for p in prop.get("anyOf", [])]
    return any(k in ("integer", "number") for k in kinds)


def check_schema(strategy: Strategy) -> CheckResult:
    problems: list[str] = []
    try:
        schema = strategy.params_schema()
        json.dumps(schema)
    except Exception as exc:  # noqa: BLE001
        return CheckResult("schema", FAIL,
                           f"params_schema raised {exception_sentence(exc)}; use plain field "
                           "types (int, float, bool, Literal, Enum).")
    try:
        strategy.with_params({})
    except Exception as exc:  # noqa: BLE001
        return CheckResult("schema", FAIL,
                           f"The defaults do not validate ({exception_sentence(exc)}); give "
                           "every field a valid default.")
    properties = schema.get("properties", {})
    for name, prop in properties.items():
        if "default" not in prop:
            problems.append(f"{name} has no default")
        if not prop.get("title"):
            problems.append(f"{name} has no title")
        if _numeric(prop) and (bound := _bound_problem(name, prop)) is not None:
            problems.append(bound)
    if problems:
        return CheckResult(
            "schema", FAIL,
            f"{len(problems)} problem{'s' if len(problems) > 1 else ''} in Params: "
            f"{'; '.join(problems)}. Use Field(default=..., title=..., ge=..., le=...).",
            tuple(problems))
    return CheckResult(
        "schema", PASS,
        f"The defaults validate; {_fields(len(properties))} a default and a title, "
        "and every number field has bounds.")


def _timed(strategy: Strategy, bars: Bars, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        strategy.generate_signals(bars)
        best = min(best, time.perf_counter() - start)
        if best > 1.0:
            break
    return best


def count_lines(call: Callable[[], object]) -> Counter[tuple[str, int]]:
    """The Python lines ``call`` executes, by (file, line)."""
    counts: Counter[tuple[str, int]] = Counter()
    skip: dict[CodeType, bool] = {}

    def local(frame: FrameType, event: str, _arg: object) -> Any:
        if event == "line":
            counts[(frame.f_code.co_filename, frame.f_lineno)] += 1
        return local

    def tracer(frame: FrameType, _event: str, _arg: object) -> Any:
        code = frame.f_code
        if code not in skip:  # the tracer itself and the interpreter's own frames
            skip[code] = code.co_filename == __file__
        return None if skip[code] else local

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        call()
    finally:
        sys.settrace(previous)
    return counts


def check_speed(strategy: Strategy, bars: Bars) -> CheckResult:
    """Timed on ``bars`` when they are 100,000 or more (scaled to 100,000), else on the
    synthetic series: on a few thousand bars fixed costs would dominate."""
    if len(bars) < SYNTHETIC_BARS:
        bars = synthetic_bars()
        where = f"{len(bars):,} synthetic bars"
    else:
        where = f"{len(bars):,} bars"
    n = len(bars)
    per_100k = _timed(strategy, bars) * 100_000 / max(n, 1)
    timing = f"{per_100k * 1000:,.1f} ms per 100,000 bars (best of three on {where})"
    small, large = synthetic_bars(2_000, seed=11), synthetic_bars(4_000, seed=11)
    try:
        few = count_lines(lambda: strategy.generate_signals(small))
        many = count_lines(lambda: strategy.generate_signals(large))
    except Exception as exc:  # noqa: BLE001
        return CheckResult("speed", WARN, f"{timing}; counting its lines raised "
                           f"{exception_sentence(exc)}.")
    grown = sum(many.values()) - sum(few.values())
    per_bar = grown / (len(large) - len(small))
    if per_bar >= LOOP_LINES_PER_BAR:
        (file, line), count = max(((k, many[k] - few.get(k, 0)) for k in many),
                                  key=lambda kv: kv[1])
        return CheckResult(
            "speed", WARN,
            f"{timing}: it loops in Python over bars (about {per_bar:.1f} Python lines run per "
            f"bar, most at {file}:{line}); use numpy's vectorised operations to make it "
            "10-100x faster.",
            (f"Python lines executed: {sum(few.values()):,} on {len(small):,} bars, "
             f"{sum(many.values()):,} on {len(large):,} bars; line {line} ran {count:,} more "
             "times",))
    if per_100k > SLOW_SECONDS_PER_100K:
        return CheckResult("speed", WARN,
                           f"{timing}: slow for a vectorised strategy (most take a few ms); "
                           "a sweep or a million bars will wait on it.")
    return CheckResult("speed", PASS, f"{timing}; no Python loop over bars.")


def run_checks(
    strategy: Strategy,
    *,
    bars: OHLCV | None = None,
    data: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> CheckReport:
    """Every check on ``strategy`` over ``bars`` (default: the synthetic series)."""
    synthetic = bars is None
    series = synthetic_bars() if bars is None else Bars.of(bars)
    label = synthetic_label(len(series)) if synthetic else (data or f"{len(series):,} bars")
    total = 5
    report = progress or (lambda _done, _total: None)
    results: list[CheckResult] = []
    report(0, total)
    results.append(check_schema(strategy))
    report(1, total)
    try:
        start = time.perf_counter()
        full = strategy.generate_signals(series)
        seconds = time.perf_counter() - start
        indicators = strategy.indicators(series)
    except Exception as exc:  # noqa: BLE001
        sentence = (f"generate_signals or indicators raised {exception_sentence(exc)} on "
                    f"the {len(series):,} bars; fix the strategy.")
        results.extend(CheckResult(name, FAIL, sentence)
                       for name in ("shape", "look-ahead", "determinism", "speed"))
        report(total, total)
        return _report(strategy, label, synthetic, len(series), results)
    shape = check_shape(strategy, series, full, indicators)
    results.append(shape)
    report(2, total)
    if shape.verdict is FAIL and signal_problem(full, len(series)) is not None:
        skipped = "Skipped: the signals have the wrong shape (see shape)."
        results.extend(CheckResult(name, FAIL, skipped)
                       for name in ("look-ahead", "determinism", "speed"))
        report(total, total)
        return _report(strategy, label, synthetic, len(series), results)
    full = np.asarray(full)
    indicators = list(indicators) if isinstance(indicators, list | tuple) else []
    for name, run in (
        ("look-ahead", lambda: check_lookahead(strategy, series, full, indicators, seconds)),
        ("determinism", lambda: check_determinism(strategy, series, full, indicators)),
        ("speed", lambda: check_speed(strategy, series)),
    ):
        try:
            results.append(run())
        except Exception as exc:  # noqa: BLE001
            results.append(CheckResult(name, FAIL, f"It raised {exception_sentence(exc)} "
                                       "during this check; fix the strategy."))
        report(len(results), total)
    return _report(strategy, label, synthetic, len(series), results)


def _report(strategy: Strategy, label: str, synthetic: bool, n: int,
            results: list[CheckResult]) -> CheckReport:
    params: Mapping[str, Any] = {}
    try:
        params = strategy.params.model_dump(mode="json")
    except Exception:  # noqa: BLE001, S110 - a strategy without a pydantic model
        pass
    order = {"look-ahead": 0, "determinism": 1, "shape": 2, "schema": 3, "speed": 4}
    return CheckReport(
        strategy_id=strategy.id, params=dict(params), data=label, synthetic=synthetic,
        bar_count=n, results=tuple(sorted(results, key=lambda r: order.get(r.name, 9))))


__all__ = [
    "Bars",
    "Problem",
    "contract_problem",
    "run_checks",
    "signal_problem",
    "synthetic_bars",
]
