"""Universe runs: load the universe's bars, compute each symbol's signals as jobs of the grid
executor, share the cash (``universe.simulate_universe``), store the run in one transaction and
read it back. A universe run is a ``backtest_runs`` row (the portfolio's equity, every fill, the
settings and metrics; ``symbol`` holds the universe's name) plus its ``backtest_run_universes``
row (symbols in order, the symbol of each fill and signal, last closes, breakdown)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from kash_tui.db import utc_now
from kash_tui.domains.market import NoBarsError, Timeframe
from kash_tui.domains.trading import models, run_rows
from kash_tui.domains.trading.service import (
    BacktestReport,
    BacktestRun,
    SignalColumns,
    TradingError,
    UniverseBacktestRequest,
    UniverseRunInfo,
    UniverseSymbolResult,
)
from kash_tui.domains.trading.universe import (
    SymbolBars,
    UniverseResult,
    simulate_universe,
    symbol_signals,
)

if TYPE_CHECKING:
    from kash_tui.domains.trading.service_impl import SqlTradingService

NS = 1_000_000_000
TABLE = "backtest_run_universes"


@dataclass(frozen=True, eq=False)
class Loaded:
    """A universe request checked and its bars loaded (what a run, a sweep or a walk-forward of
    the universe starts from)."""

    universe: Any
    strategy: Any
    timeframe: Timeframe
    bars: list[SymbolBars]
    settings: Any
    """The request's settings with the timeframe's periods per year."""
    max_positions: int


def load(
    service: SqlTradingService,
    request: UniverseBacktestRequest,
    progress: Callable[[int, int], None] | None = None,
    per_symbol: int = 1,
    extra: int = 0,
) -> Loaded:
    """Check ``request`` and load every symbol's bars (``progress(k, total)`` per symbol, where
    ``total`` is symbols x ``per_symbol`` + ``extra``); a sentence naming the symbols without
    bars."""
    universe = service._workspaces.get_universe(request.universe, request.workspace)  # noqa: SLF001
    if getattr(request.settings, "has_exits", False):
        raise TradingError(
            "Stops and targets are not applied to universe runs yet; run the universe without "
            "--stop-loss, --take-profit and --trailing-stop."
        )
    symbols = universe.symbols
    max_positions = request.max_positions or len(symbols)
    if max_positions < 1:
        raise TradingError(
            f"--max-positions must be 1 or more (got {max_positions}); give e.g. --max-positions 5."
        )
    if request.start and request.end and request.start > request.end:
        raise TradingError(
            f"The start {request.start:%Y-%m-%d} is after the end {request.end:%Y-%m-%d}; swap them."
        )
    strategy = service._strategies.create_with_params(request.strategy_id, request.params)  # noqa: SLF001
    service._portfolio(request.portfolio_id)  # noqa: SLF001
    timeframe = Timeframe.parse(request.timeframe)
    total = len(symbols) * per_symbol + extra
    bars: list[SymbolBars] = []
    missing: list[str] = []
    asset_class = None
    for k, symbol in enumerate(symbols):
        try:
            s = service._market.load_bars(symbol, timeframe, request.start, request.end)  # noqa: SLF001
        except NoBarsError:
            missing.append(symbol)
            continue
        asset_class = asset_class or s.asset_class
        bars.append(SymbolBars(s.symbol, s.timestamps, s.open, s.high, s.low, s.close, s.volume))
        if progress:
            progress(k + 1, total)
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5
                                          else "")
        raise TradingError(
            f"{len(missing)} of the {len(symbols)} symbols of universe {universe.name!r} have no "
            f"{timeframe.value} bars{' in that period' if request.start or request.end else ''} "
            f"({shown}); fetch them with `kash data fetch --universe {universe.name} --start "
            "DATE` or remove them from the universe."
        )
    settings = replace(request.settings,
                       periods_per_year=timeframe.periods_per_year(asset_class))
    return Loaded(universe, strategy, timeframe, bars, settings, max_positions)


def run(
    service: SqlTradingService,
    request: UniverseBacktestRequest,
    progress: Callable[[int, int], None] | None = None,
) -> BacktestReport:
    # load each, signal each, then simulate and store
    loaded = load(service, request, progress, per_symbol=2, extra=1)
    universe, strategy, timeframe = loaded.universe, loaded.strategy, loaded.timeframe
    bars, settings, max_positions = loaded.bars, loaded.settings, loaded.max_positions
    symbols = universe.symbols
    total = len(symbols) * 2 + 1
    signals = service._executor.map(  # noqa: SLF001
        symbol_signals, strategy, bars,
        progress=(lambda done: progress(len(symbols) + done, total)) if progress else None,
    )
    result = simulate_universe(bars, signals, settings, max_positions)
    info = UniverseRunInfo(
        universe=universe.name, workspace=universe.workspace_name,
        symbols=tuple(b.symbol for b in bars), max_positions=max_positions,
        breakdown=result.breakdown,
    )
    run_record = _store(service, request, strategy, timeframe, settings, info, result)
    if progress:
        progress(total, total)
    # the round trips as a stored run reads them back (paired from its fills), bit for bit
    trips, trip_symbols = _round_trips(result.fills, result.fill_symbols, result.last_closes)
    return _report(run_record, result.timestamps, result.equity, result.fills,
                   trips, result.fill_symbols, trip_symbols,
                   result.signal_index, result.signal_kind, result.signal_price,
                   result.signal_symbols)


def _store(service, request, strategy, timeframe, settings, info, result: UniverseResult):  # noqa: ANN001, ANN202
    ts = result.timestamps
    ts_sec = ts // NS
    fc = result.fills
    largest = max(settings.initial_cash, float(np.abs(result.equity).max()),
                  *(float(np.abs(a).max()) for a in (fc.qty, fc.price) if len(a)))
    if not largest < 1e22:
        raise TradingError(
            f"This run's amounts are too large to store (up to {largest:.3g}); use a smaller "
            "starting cash."
        )
    records = np.zeros(len(fc), dtype=models.FILL_DTYPE)
    records["bar_index"] = fc.bar_index
    records["ts"] = ts_sec[fc.bar_index] if len(fc) else 0
    records["signal_ts"] = ts_sec[result.fill_signal_index] if len(fc) else 0
    records["buy"] = fc.is_buy
    records["qty"] = fc.qty
    records["price"] = fc.price
    records["commission"] = fc.commission
    order = np.lexsort((result.signal_symbols, result.signal_index))
    packed_signals = np.stack([
        result.signal_index[order].astype(np.float64),
        result.signal_kind[order].astype(np.float64),
        result.signal_price[order],
    ])
    values = {
        "portfolio_id": request.portfolio_id,
        "created_at": utc_now(),
        "strategy_id": strategy.id,
        "params_json": models.params_to_json(strategy.params.model_dump(mode="json")),
        "symbol": info.universe,
        "timeframe": timeframe.value,
        "requested_start": request.start,
        "requested_end": request.end,
        "first_bar_ts": int(ts_sec[0]),
        "last_bar_ts": int(ts_sec[-1]),
        "bar_count": int(ts.shape[0]),
        "initial_cash": models.to_decimal(settings.initial_cash),
        "commission": settings.commission,
        "slippage": settings.slippage,
        "position_size_pct": settings.position_size_pct,
        "whole_shares": settings.whole_shares,
        "fill_model": settings.fill_model.value,
        "periods_per_year": settings.periods_per_year,
        "final_equity": models.to_decimal(result.metrics.final_equity),
        "metrics_json": models.metrics_to_json(result.metrics),
        "timestamps_blob": models.pack_timestamps(ts),
        "equity_blob": models.pack(result.equity),
        "signals_blob": models.pack(packed_signals),
        "fills_blob": models.pack(records),
        "last_close": 0.0,  # each symbol's is in last_closes_blob
    }
    extra = {
        "universe_name": info.universe,
        "workspace_name": info.workspace,
        "max_positions": info.max_positions,
        "symbols_json": json.dumps(list(info.symbols)),
        "breakdown_json": json.dumps([asdict(b) for b in info.breakdown]),
        "fill_symbols_blob": models.pack(result.fill_symbols),
        "signal_symbols_blob": models.pack(result.signal_symbols[order]),
        "last_closes_blob": models.pack(result.last_closes),
    }
    with service._db.raw() as conn:  # noqa: SLF001
        run_id = run_rows.insert_run(conn, values)
        run_rows.insert_universe(conn, {"run_id": run_id, **extra})
        for k in np.flatnonzero(result.open_qty > 0).tolist():
            open_trip = np.flatnonzero((result.trip_symbols == k) & result.trips.is_open)[-1]
            run_rows.insert_position(conn, {
                "run_id": run_id, "symbol": info.symbols[k],
                "qty": models.to_decimal(float(result.open_qty[k])),
                "avg_entry_price": models.to_decimal(float(result.trips.entry_price[open_trip])),
                "last_price": models.to_decimal(float(result.last_closes[k])),
            })
    run_record = models.to_run(_Record(id=run_id, **values))
    return replace(run_record, universe=info)


class _Record(SimpleNamespace):
    """The stored values as the row ``models.to_run`` reads; columns a universe run leaves at
    their default (the exits of single runs) read as None."""

    def __getattr__(self, name: str) -> Any:  # noqa: ANN401
        if name.startswith("__"):
            raise AttributeError(name)
        return None


def info_of(row: Any) -> UniverseRunInfo:  # noqa: ANN401
    """The ``UniverseRunInfo`` of a ``backtest_run_universes`` row."""
    return UniverseRunInfo(
        universe=row.universe_name,
        workspace=row.workspace_name,
        symbols=tuple(json.loads(row.symbols_json)),
        max_positions=int(row.max_positions),
        breakdown=tuple(UniverseSymbolResult(**b) for b in json.loads(row.breakdown_json)),
    )


def report_of(run_record: BacktestRun, row: Any, extra: Any) -> BacktestReport:  # noqa: ANN401
    """A stored universe run as a report: ``row`` its ``backtest_runs`` row, ``extra`` its
    ``backtest_run_universes`` row."""
    info = info_of(extra)
    run_record = replace(run_record, universe=info)
    timestamps = models.unpack_timestamps(row.timestamps_blob)
    equity = models.unpack(row.equity_blob)
    packed = models.unpack(row.signals_blob)
    records = models.unpack(row.fills_blob)
    fills = models.fill_columns(records)
    fill_symbols = models.unpack(extra.fill_symbols_blob).astype(np.int32)
    last_closes = models.unpack(extra.last_closes_blob)
    trips, trip_symbols = _round_trips(fills, fill_symbols, last_closes)
    return _report(run_record, timestamps, equity, fills, trips, fill_symbols, trip_symbols,
                   packed[0].astype(np.int64), packed[1].astype(np.int8),
                   packed[2].astype(np.float64),
                   models.unpack(extra.signal_symbols_blob).astype(np.int32))


def _round_trips(fills: Any, fill_symbols: np.ndarray, last_closes: np.ndarray):  # noqa: ANN202
    """Each symbol's fills paired buy-sell (they alternate per symbol), in order of entry."""
    from kash_tui.domains.trading.service import RoundTripColumns

    parts, syms, firsts = [], [], []
    for k in np.unique(fill_symbols).tolist():
        mine = np.flatnonzero(fill_symbols == k)
        sub = type(fills)(
            bar_index=fills.bar_index[mine], is_buy=fills.is_buy[mine], qty=fills.qty[mine],
            price=fills.price[mine], commission=fills.commission[mine],
        )
        trips = sub.round_trips(float(last_closes[k]))
        parts.append(trips)
        syms.append(np.full(len(trips), k, dtype=np.int32))
        firsts.append(mine[np.flatnonzero(sub.is_buy)])  # fill number of each entry
    if not parts:
        empty = np.empty(0)
        return RoundTripColumns(
            entry_index=np.empty(0, dtype=np.int64), exit_index=np.empty(0, dtype=np.int64),
            entry_price=empty, exit_price=empty, qty=empty, pnl=empty, return_pct=empty,
            is_open=np.empty(0, dtype=bool),
        ), np.empty(0, dtype=np.int32)
    order = np.argsort(np.concatenate(firsts), kind="stable")
    cat = {name: np.concatenate([getattr(p, name) for p in parts])[order]
           for name in ("entry_index", "exit_index", "entry_price", "exit_price", "qty", "pnl",
                        "return_pct", "is_open")}
    return RoundTripColumns(**cat), np.concatenate(syms)[order]


def _report(run_record, timestamps, equity, fills, trips, fill_symbols, trip_symbols,  # noqa: ANN001, ANN202, PLR0913
            sig_index, sig_kind, sig_price, sig_symbols):
    order = np.lexsort((sig_symbols, sig_index))
    signal_columns = SignalColumns(
        index=sig_index[order], kind=sig_kind[order], price=sig_price[order],
        timestamps=timestamps,
    )
    return BacktestReport(
        run=run_record,
        timestamps=timestamps,
        equity=equity,
        fills=fills.rows(),
        round_trips=trips.rows(),
        signals=signal_columns.rows(),
        fill_columns=fills,
        round_trip_columns=trips,
        signal_columns=signal_columns,
        fill_symbols=fill_symbols,
        round_trip_symbols=trip_symbols,
        signal_symbols=sig_symbols[order],
    )
