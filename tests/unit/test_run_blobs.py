"""The packed arrays of a stored run read back exactly, in today's layout and in older ones."""

from __future__ import annotations

import zlib

import numpy as np

from kash_tui.domains.trading import models


def _minute_sessions(days: int) -> np.ndarray:
    """390 one-minute bars a day with overnight and weekend gaps, as nanoseconds."""
    day = np.arange(390, dtype=np.int64) * 60
    starts = np.cumsum(np.where(np.arange(days) % 5 == 4, 3 * 86_400, 86_400)).astype(np.int64)
    seconds = (1_420_209_000 + starts[:, None] + day[None, :]).ravel()
    return seconds * 1_000_000_000


def test_timestamps_round_trip_exactly_and_take_little_room() -> None:
    ts = _minute_sessions(2_600)  # about a million bars
    blob = models.pack_timestamps(ts)
    back = models.unpack_timestamps(blob)
    assert back.dtype == np.int64
    assert np.array_equal(back, ts)
    assert len(blob) < ts.nbytes / 50  # tens of kilobytes, not 8 MB


def test_irregular_and_single_timestamps_round_trip() -> None:
    rng = np.random.default_rng(7)
    ts = np.cumsum(rng.integers(1, 10**12, 10_000)).astype(np.int64)
    assert np.array_equal(models.unpack_timestamps(models.pack_timestamps(ts)), ts)
    one = np.array([1_700_000_000_000_000_000], dtype=np.int64)
    assert np.array_equal(models.unpack_timestamps(models.pack_timestamps(one)), one)


def test_timestamps_of_runs_stored_before_still_read() -> None:
    ts = _minute_sessions(3)
    npy = models.pack(ts)  # the layout of runs stored before this one
    assert np.array_equal(models.unpack_timestamps(npy), ts)
    assert np.array_equal(models.unpack_timestamps(zlib.compress(npy)), ts)  # and the oldest


def _flat_half_the_time(n: int) -> np.ndarray:
    """An equity curve: flat (cash) between trades, moving with the close inside them."""
    rng = np.random.default_rng(3)
    moving = 10_000.0 + np.cumsum(rng.normal(0.0, 5.0, n))
    inside = (np.arange(n) // 500) % 2 == 1
    curve = moving.copy()
    for start in range(0, n, 1000):  # each flat stretch holds the value it started with
        curve[start : start + 500] = curve[start - 1] if start else 10_000.0
    assert np.array_equal(curve[inside], moving[inside])
    return curve


def test_an_equity_curve_round_trips_bit_for_bit_in_half_the_room() -> None:
    curve = _flat_half_the_time(1_000_000)
    blob = models.pack_steps(curve)
    assert blob.startswith(models.STEPS_MAGIC)
    back = models.unpack(blob)
    assert back.dtype == np.float64
    assert np.array_equal(back.view(np.int64), curve.view(np.int64))
    assert len(blob) < 0.55 * curve.nbytes


def test_steps_keep_nan_negative_zero_and_single_points() -> None:
    odd = np.array([0.0, -0.0, -0.0, np.nan, np.nan, 1.5, 1.5, np.inf, 0.0], dtype=np.float64)
    odd = np.repeat(odd, 40)  # repeats, so the step layout is used
    blob = models.pack_steps(odd)
    assert blob.startswith(models.STEPS_MAGIC)
    assert np.array_equal(models.unpack(blob).view(np.int64), odd.view(np.int64))
    for tiny in (np.array([7.25]), np.array([], dtype=np.float64)):
        assert np.array_equal(models.unpack(models.pack_steps(tiny)), tiny)


def test_a_series_that_never_repeats_is_stored_plainly() -> None:
    noise = np.random.default_rng(1).normal(size=10_000)
    blob = models.pack_steps(noise)
    assert blob.startswith(models.NPY_MAGIC)
    assert np.array_equal(models.unpack(blob), noise)
