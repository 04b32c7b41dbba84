"""Vectorised technical indicators on float64 numpy arrays.

Every function returns a float64 array as long as its input, NaN before the first defined value,
and agrees with TA-Lib (0.8.x, default compatibility, no unstable period) to about 1e-11 from that
value on. The value at bar ``i`` depends on bars ``0..i`` only, bit for bit: it is the same whether
the series ends at ``i`` or goes on (no look-ahead, not even in rounding).

How, without a Python loop over bars:

- window sums are running sums, as in TA-Lib: ``cumsum`` of ``x[i] - x[i-n]`` (one pass, one
  buffer; see ``_running_window_sums``);
- recursive smoothing (EMA, Wilder, MACD) is a log-depth prefix scan (``_linear_recurrence``);
- the standard deviation is two-pass per window, a loop over the ``n`` window offsets (not over
  bars); window highs and lows are running extremes within blocks (van Herk / Gil-Werman).

Fresh 100k-element arrays cost page faults that outweigh the arithmetic, so the hot functions
(``sma``, ``mfi``) reuse their buffers through ``out=`` instead of chaining temporaries.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["bollinger_bands", "ema", "highest", "lowest", "macd", "mfi", "rsi", "sma", "stddev"]

# TA-Lib's dead zone for "the typical price did not move": TA_IS_ZERO_SCALED with TA_EPSILON.
_FLAT_EPSILON = 1e-14


def _as_series(x: Any, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a one-dimensional array (got {arr.ndim} dimensions).")
    return arr


def _check_period(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"period must be a positive integer (got {n!r}).")
    return int(n)


def _running_window_sums(
    x: np.ndarray, n: int, out: np.ndarray, restarts: tuple[int, ...] = ()
) -> np.ndarray:
    """Write into ``out`` the sum of ``x[i-n+1 .. i]`` at every ``i >= n-1``; return ``out``.

    ``out[i]`` for ``i < n-1`` holds the partial sum ``x[0..i]``. Computed as TA-Lib does, a
    running total that adds the newest value and drops the oldest (``cumsum`` of
    ``x[i] - x[i-n]``): rounding stays relative to the window, not to the whole series. At each
    index in ``restarts`` (ascending) the total is set to exactly 0 and continues from there; the
    caller guarantees the true window sum is 0 there. ``out`` must not share memory with ``x``.
    """
    out[:n] = x[:n]
    np.subtract(x[n:], x[:-n], out=out[n:])
    starts = (0, *restarts)
    ends = (*restarts, len(out))
    for start, end in zip(starts, ends, strict=True):
        if start:
            out[start] = 0.0
        np.cumsum(out[start:end], out=out[start:end])
    return out


def _linear_recurrence(u: np.ndarray, a: float) -> np.ndarray:
    """In place: ``u[t] <- a * u[t-1] + u[t]`` (the new ``u[t-1]``), for ``0 <= a < 1``.

    Hillis-Steele scan: after the step with shift ``d``, ``u[t]`` holds the input terms
    ``t-2d+1 .. t``. It runs until ``a**d`` underflows to zero, where a sequential loop's weights
    vanish too: stopping earlier would drop the state a long flat stretch decays from (RSI there
    is a ratio of two tiny averages). A prefix of the input gives a bit-identical prefix of the
    output.
    """
    size = len(u)
    scratch = np.empty(size)
    d = 1
    weight = a
    while d < size and weight > 0.0:
        np.multiply(u[: size - d], weight, out=scratch[: size - d])
        u[d:] += scratch[: size - d]
        d *= 2
        weight *= weight
    return u


def sma(x: Any, n: int) -> np.ndarray:
    """Simple moving average of the last ``n`` values; defined from index ``n - 1``."""
    x = _as_series(x, "x")
    n = _check_period(n)
    out = np.empty(len(x))
    if len(x) < n:
        out.fill(np.nan)
        return out
    _running_window_sums(x, n, out)
    out /= n
    out[: n - 1] = np.nan
    return out


def ema(x: Any, n: int) -> np.ndarray:
    """Exponential moving average with alpha ``2 / (n + 1)``, as TA-Lib's default.

    Seeded at index ``n - 1`` with the mean of the first ``n`` values, then
    ``ema[t] = ema[t-1] + alpha * (x[t] - ema[t-1])``.
    """
    x = _as_series(x, "x")
    n = _check_period(n)
    return _ema_seeded_at(x, n, n - 1)


def _ema_seeded_at(x: np.ndarray, n: int, seed: int) -> np.ndarray:
    """The EMA of ``x`` started at index ``seed`` (``>= n - 1``) with the mean of the ``n``
    values ending there; NaN before. TA-Lib's MACD starts its fast EMA this way at the slow
    EMA's first index, so the two line up (the fast EMA there is not ``ema(x, fast)``)."""
    out = np.full(len(x), np.nan)
    if len(x) <= seed:
        return out
    alpha = 2.0 / (n + 1)
    smoothed = out[seed:]
    np.multiply(x[seed:], alpha, out=smoothed)
    smoothed[0] = np.sum(x[seed - n + 1 : seed + 1]) / n
    _linear_recurrence(smoothed, 1.0 - alpha)
    return out


def macd(
    close: Any, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MACD line, signal line and histogram, as TA-Lib's ``MACD``; defined from index
    ``slow + signal - 2``.

    - the slow EMA (alpha ``2 / (slow + 1)``) is seeded at index ``slow - 1`` with the mean of
      the first ``slow`` closes; the fast EMA is seeded at the same index with the mean of the
      ``fast`` closes ending there (TA-Lib aligns them so; it is not ``ema(close, fast)``);
    - ``macd = fast_ema - slow_ema``; ``signal`` is the EMA of the MACD line seeded with the
      mean of its first ``signal`` values; ``histogram = macd - signal``;
    - all three are NaN until the signal line exists, as TA-Lib returns them.
    ``fast`` must be less than ``slow`` (TA-Lib would swap them).
    """
    close = _as_series(close, "close")
    fast, slow, signal = _check_period(fast), _check_period(slow), _check_period(signal)
    if fast >= slow:
        raise ValueError(f"fast must be less than slow (got {fast} and {slow}).")
    size = len(close)
    first = slow + signal - 2
    if size <= first:
        empty = np.full(size, np.nan)
        return empty, empty.copy(), empty.copy()
    line = _ema_seeded_at(close, fast, slow - 1)
    line -= _ema_seeded_at(close, slow, slow - 1)
    sig = np.full(size, np.nan)
    sig[slow - 1 :] = _ema_seeded_at(line[slow - 1 :], signal, signal - 1)
    line[:first] = np.nan
    return line, sig, line - sig


def stddev(x: Any, n: int, mean: np.ndarray | None = None) -> np.ndarray:
    """Population standard deviation (``ddof=0``) of the last ``n`` values; defined from index
    ``n - 1``. As TA-Lib 0.8's ``STDDEV`` and the width of its ``BBANDS``, to about 1e-13.

    Computed in two passes per window (the mean, then the squared distances from it), not from
    a running sum of squares: that one cancels catastrophically on flat prices, where the true
    value is exactly 0. The cost is ``n`` passes over the series (a loop over the window, not
    over the bars). ``mean`` may pass ``sma(x, n)`` when the caller has it.
    """
    x = _as_series(x, "x")
    n = _check_period(n)
    size = len(x)
    out = np.full(size, np.nan)
    if size < n:
        return out
    m = sma(x, n) if mean is None else np.asarray(mean, dtype=np.float64)
    centre = m[n - 1 :]
    acc = np.zeros(size - n + 1)
    scratch = np.empty(size - n + 1)
    for k in range(n):
        np.subtract(x[k : size - n + 1 + k], centre, out=scratch)
        np.multiply(scratch, scratch, out=scratch)
        acc += scratch
    acc /= n
    np.sqrt(acc, out=out[n - 1 :])
    return out


def bollinger_bands(
    close: Any, n: int = 20, num_std: float = 2.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(upper, middle, lower)`` Bollinger bands, as TA-Lib's ``BBANDS`` with a simple moving
    average: ``middle = sma(close, n)``, ``upper/lower = middle +/- num_std * stddev`` with the
    population standard deviation (``ddof=0``) of the same ``n`` closes. Defined from ``n - 1``.
    """
    close = _as_series(close, "close")
    n = _check_period(n)
    middle = sma(close, n)
    width = stddev(close, n, mean=middle)
    width *= float(num_std)
    return middle + width, middle, middle - width


def _window_extreme(x: np.ndarray, n: int, ufunc: np.ufunc, pad: float) -> np.ndarray:
    """``ufunc.reduce`` of ``x[i-n+1 .. i]`` at every ``i >= n-1`` in O(len) (van Herk /
    Gil-Werman: running extremes forward and backward within blocks of ``n``)."""
    size = len(x)
    out = np.full(size, np.nan)
    if size < n:
        return out
    if n == 1:
        out[:] = x
        return out
    blocks = np.concatenate((x, np.full(-size % n, pad))).reshape(-1, n)
    forward = ufunc.accumulate(blocks, axis=1).ravel()
    backward = ufunc.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    # window [s, s+n-1] = the rest of s's block, then the start of the next block up to s+n-1
    ufunc(backward[: size - n + 1], forward[n - 1 : size], out=out[n - 1 :])
    return out


def highest(x: Any, n: int) -> np.ndarray:
    """The highest of the last ``n`` values, the current one included (TA-Lib's ``MAX``);
    defined from index ``n - 1``."""
    x = _as_series(x, "x")
    return _window_extreme(x, _check_period(n), np.maximum, -np.inf)


def lowest(x: Any, n: int) -> np.ndarray:
    """The lowest of the last ``n`` values, the current one included (TA-Lib's ``MIN``);
    defined from index ``n - 1``."""
    x = _as_series(x, "x")
    return _window_extreme(x, _check_period(n), np.minimum, np.inf)


def _wilder_average(moves: np.ndarray, n: int, out: np.ndarray) -> None:
    """Wilder's average of ``moves[1:]`` into ``out[n:]``: the mean of ``moves[1..n]`` at bar
    ``n``, then ``avg = (avg * (n - 1) + move) / n``."""
    smoothed = out[n:]
    np.divide(moves[n:], n, out=smoothed)
    smoothed[0] = np.sum(moves[1 : n + 1]) / n
    _linear_recurrence(smoothed, (n - 1) / n)


def rsi(close: Any, n: int = 14) -> np.ndarray:
    """Wilder's Relative Strength Index, 0..100; defined from index ``n``.

    ``100 * avg_gain / (avg_gain + avg_loss)`` with both averages Wilder-smoothed (seeded with the
    mean of the first ``n`` changes). When both averages are exactly zero (a flat start) it reads
    0, as TA-Lib 0.8 does; TA-Lib has no tolerance band here.
    """
    close = _as_series(close, "close")
    n = _check_period(n)
    size = len(close)
    out = np.empty(size)
    if size <= n:
        out.fill(np.nan)
        return out
    change = np.empty(size)
    change[0] = 0.0
    np.subtract(close[1:], close[:-1], out=change[1:])
    gain = np.maximum(change, 0.0)
    loss = np.minimum(change, 0.0, out=change)
    np.negative(loss, out=loss)
    avg_loss = np.empty(size)
    _wilder_average(gain, n, out)
    _wilder_average(loss, n, avg_loss)
    total = np.add(out, avg_loss, out=avg_loss)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(out, total, out=out)
    out *= 100.0
    out[total == 0.0] = 0.0
    out[:n] = np.nan
    return out


def mfi(high: Any, low: Any, close: Any, volume: Any, n: int = 14) -> np.ndarray:
    """Money Flow Index, 0..100; defined from index ``n``. TA-Lib 0.8's rules, exactly:

    - typical price ``tp = (high + low + close) / 3``; raw money flow ``tp * volume``;
    - bar ``i``'s flow is positive when ``tp[i] > tp[i-1]`` and negative when ``tp[i] < tp[i-1]``;
      a move no bigger than ``1e-14 * (|tp[i]| + |tp[i-1]|)`` is no move, and such a bar (like a
      zero-volume bar) adds to neither side;
    - ``mfi[i] = 100 * pos / (pos + neg)`` over the flows of bars ``i-n+1 .. i``;
    - a window without any money flow (flat prices or zero volume throughout) reads 0. TA-Lib
      0.8 knows such a window exactly (its running sums restart from 0 after ``n`` empty bars),
      and so does this function; TA-Lib 0.4 instead read 0 whenever ``pos + neg < 1``;
    - ``pos`` is clamped into ``[0, pos + neg]`` and a total ``<= 0`` reads 0 (reachable only
      with negative prices, i.e. synthetic data).
    """
    high = _as_series(high, "high")
    low = _as_series(low, "low")
    close = _as_series(close, "close")
    volume = _as_series(volume, "volume")
    if not len(high) == len(low) == len(close) == len(volume):
        raise ValueError(
            "high, low, close and volume must have the same length "
            f"(got {len(high)}, {len(low)}, {len(close)} and {len(volume)})."
        )
    n = _check_period(n)
    size = len(close)
    if size <= n:
        return np.full(size, np.nan)

    # Every array is bar-aligned: index i holds bar i's move and flow; bar 0 has neither.
    tp = np.add(high, low)
    tp += close
    tp /= 3.0
    move = np.empty(size)
    move[0] = 0.0
    np.subtract(tp[1:], tp[:-1], out=move[1:])
    abs_tp = np.abs(tp)
    dead_zone = np.empty(size)
    dead_zone[0] = 0.0
    np.add(abs_tp[1:], abs_tp[:-1], out=dead_zone[1:])
    dead_zone *= _FLAT_EPSILON
    rising = move > dead_zone  # TA-Lib: not within the dead zone, and not falling
    np.negative(dead_zone, out=dead_zone)
    falling = move < dead_zone

    flow = np.multiply(tp, volume, out=abs_tp)
    restarts = _empty_window_ends(flow, rising | falling, n)
    pos_flow = np.multiply(flow, rising, out=move)
    neg_flow = np.multiply(flow, falling, out=dead_zone)
    pos = _running_window_sums(pos_flow, n, out=tp, restarts=restarts)
    total = _running_window_sums(neg_flow, n, out=flow, restarts=restarts)
    total += pos
    # TA-Lib's clamp: it matters only for rounding noise and for negative prices.
    np.maximum(pos, 0.0, out=pos)
    np.minimum(pos, total, out=pos)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(pos, total, out=pos)
    pos *= 100.0
    pos[total <= 0.0] = 0.0
    pos[:n] = np.nan
    return pos


def _empty_window_ends(flow: np.ndarray, moved: np.ndarray, n: int) -> tuple[int, ...]:
    """Bars that complete a window of ``n`` bars without money flow, first of each run only.

    TA-Lib zeroes its running sums there (the sums would otherwise hold rounding residue of
    either sign) and later values build on that clean zero, so the running sums restart there.
    A bar carries no flow when its typical price did not move or its money flow is 0.
    """
    carried = moved & (flow != 0.0)
    carried[0] = True  # bar 0 has no flow by construction; TA-Lib counts from bar 1
    if carried.all():
        return ()
    # Runs of bars without flow: [starts[k], ends[k]).
    edges = np.flatnonzero(carried[1:] != carried[:-1]) + 1
    if not carried[-1]:
        edges = np.append(edges, len(flow))
    starts, ends = edges[0::2], edges[1::2]
    long_enough = ends - starts >= n
    return tuple(int(i) for i in starts[long_enough] + (n - 1))
