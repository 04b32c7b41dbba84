"""Storing and reading walk-forward runs without the ORM (tables of migration 0010, described
by ``entities.WalkForwardRunRow`` / ``WalkForwardWindowRow``): one row per run with its
stitched out-of-sample curve packed in two blobs, one row per window. Everything on a
:class:`~kash_tui.db.RawConnection` inside the caller's transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kash_tui.db import read_utc
from kash_tui.domains.trading import models
from kash_tui.domains.trading.service import (
    BacktestRequest,
    BacktestSettings,
    Span,
    UniverseRunInfo,
    WalkForwardReport,
    WalkForwardRun,
    WalkForwardWindow,
)

if TYPE_CHECKING:
    from kash_tui.db import RawConnection

NS = 1_000_000_000


def _sec(when: datetime) -> int:
    return int(when.timestamp())


def _when(seconds: int) -> datetime:
    return datetime.fromtimestamp(int(seconds), tz=UTC)


def _json(value: Any) -> str:  # noqa: ANN401
    return json.dumps(value, sort_keys=True, default=str)


def insert(conn: RawConnection, report: WalkForwardReport) -> int:
    """Store ``report`` (its ``id`` is ignored); the new run's id."""
    request = report.request
    run_id = conn.insert("walkforward_runs", {
        "portfolio_id": request.portfolio_id,
        "created_at": report.created_at,
        "strategy_id": request.strategy_id,
        "params_json": models.params_to_json(dict(request.params)),
        "grid_json": json.dumps(report.grid, default=str),  # in the grid's order
        "rank_by": report.rank_by,
        "train": report.train.spec,
        "test": report.test.spec,
        "anchored": report.anchored,
        "symbol": request.symbol,
        "timeframe": request.timeframe,
        "requested_start": request.start,
        "requested_end": request.end,
        "first_bar_ts": _sec(report.first_bar),
        "last_bar_ts": _sec(report.last_bar),
        "bar_count": report.bar_count,
        "settings_json": _json(request.settings.to_dict()),
        "metrics_json": models.metrics_to_json(report.metrics),
        "in_sample_cagr_pct": report.in_sample_cagr_pct,
        "window_count": len(report.windows),
        "skipped": report.skipped,
        "timestamps_blob": models.pack_timestamps(report.timestamps),
        "equity_blob": models.pack(report.equity),
        "universe_json": _universe_json(report.universe),
    })
    for w in report.windows:
        conn.insert_row("walkforward_windows", {
            "run_id": run_id,
            "number": w.number,
            "train_start": w.train_start,
            "train_end": w.train_end,
            "test_start": w.test_start,
            "test_end": w.test_end,
            "train_first_ts": _sec(w.train_first),
            "train_last_ts": _sec(w.train_last),
            "test_first_ts": _sec(w.test_first),
            "test_last_ts": _sec(w.test_last),
            "params_json": models.params_to_json(w.params),
            "train_metrics_json": models.metrics_to_json(w.train),
            "test_metrics_json": models.metrics_to_json(w.test),
            "candidates": w.candidates,
        })
    return run_id


def _universe_json(info: UniverseRunInfo | None) -> str | None:
    if info is None:
        return None
    return json.dumps({"universe": info.universe, "workspace": info.workspace,
                       "symbols": list(info.symbols), "max_positions": info.max_positions})


def _universe(text: str | None) -> UniverseRunInfo | None:
    if not text:
        return None
    data = json.loads(text)
    return UniverseRunInfo(universe=data["universe"], workspace=data["workspace"],
                           symbols=tuple(data["symbols"]),
                           max_positions=int(data["max_positions"]))


_LISTED = ("id, created_at, portfolio_id, strategy_id, symbol, timeframe, train, test, "
           "anchored, rank_by, window_count, first_bar_ts, last_bar_ts, metrics_json, "
           "in_sample_cagr_pct, universe_json")


def _run(row: tuple[Any, ...]) -> WalkForwardRun:
    (run_id, created, portfolio_id, strategy_id, symbol, timeframe, train, test, anchored,
     rank_by, windows, first, last, metrics, is_cagr, universe) = row
    return WalkForwardRun(
        id=int(run_id), created_at=read_utc(created), portfolio_id=portfolio_id,
        strategy_id=strategy_id, symbol=symbol, timeframe=timeframe, train=Span.parse(train),
        test=Span.parse(test), anchored=bool(anchored), rank_by=rank_by,
        window_count=int(windows), first_bar=_when(first), last_bar=_when(last),
        metrics=models.metrics_from_json(metrics),
        in_sample_cagr_pct=None if is_cagr is None else float(is_cagr),
        universe=_universe(universe),
    )


def listing(conn: RawConnection, portfolio_id: int | None) -> list[WalkForwardRun]:
    """Stored walk-forwards, newest first (no blobs read)."""
    where, params = ("WHERE portfolio_id = ?", (portfolio_id,)) if portfolio_id is not None \
        else ("", ())
    rows = conn.all(f"SELECT {_LISTED} FROM walkforward_runs {where} ORDER BY id DESC", params)
    return [_run(r) for r in rows]


def read(conn: RawConnection, run_id: int) -> WalkForwardReport | None:
    row = conn.one(
        f"SELECT {_LISTED}, params_json, grid_json, requested_start, requested_end, "
        "bar_count, settings_json, skipped FROM walkforward_runs WHERE id = ?", (run_id,))
    if row is None:
        return None
    run = _run(row[:16])
    params, grid, start, end, bars, settings, skipped = row[16:]
    cursor = conn.cursor(binary=True)
    try:
        cursor.execute(conn.sql(
            "SELECT timestamps_blob, equity_blob FROM walkforward_runs WHERE id = ?"), (run_id,))
        ts_blob, eq_blob = cursor.fetchone()
    finally:
        cursor.close()
    windows = tuple(
        WalkForwardWindow(
            number=int(n), train_start=int(a), train_end=int(b), test_start=int(c),
            test_end=int(d), train_first=_when(tf), train_last=_when(tl), test_first=_when(sf),
            test_last=_when(sl), params=json.loads(p), train=models.metrics_from_json(tm),
            test=models.metrics_from_json(sm), candidates=int(cand),
        )
        for n, a, b, c, d, tf, tl, sf, sl, p, tm, sm, cand in conn.all(
            "SELECT number, train_start, train_end, test_start, test_end, train_first_ts, "
            "train_last_ts, test_first_ts, test_last_ts, params_json, train_metrics_json, "
            "test_metrics_json, candidates FROM walkforward_windows WHERE run_id = ? "
            "ORDER BY number", (run_id,))
    )
    request = BacktestRequest(
        symbol=run.symbol, strategy_id=run.strategy_id, timeframe=run.timeframe,
        params=json.loads(params), start=read_utc(start), end=read_utc(end),
        settings=BacktestSettings.from_dict(json.loads(settings)),
        portfolio_id=run.portfolio_id,
    )
    return WalkForwardReport(
        id=run.id, created_at=run.created_at, request=request, grid=json.loads(grid),
        rank_by=run.rank_by, train=run.train, test=run.test, anchored=run.anchored,
        bar_count=int(bars), first_bar=run.first_bar, last_bar=run.last_bar, windows=windows,
        timestamps=models.unpack_timestamps(ts_blob), equity=models.unpack(eq_blob),
        metrics=run.metrics, in_sample_cagr_pct=run.in_sample_cagr_pct, skipped=int(skipped),
        portfolio_id=run.portfolio_id, universe=run.universe,
    )
