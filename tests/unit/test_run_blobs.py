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
