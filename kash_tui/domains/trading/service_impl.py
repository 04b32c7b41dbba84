"""The trading service: runs backtests (same strategy code as paper and live), stores them all
or nothing, sweeps parameters, and resolves the trading adapter of a portfolio."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from kash_tui.db import Database, utc_now
from kash_tui.domains.connection import BacktestConnection, ConnectionService
from kash_tui.domains.market import BarSeries, MarketService, Timeframe
from kash_tui.domains.strategy import Strategy, StrategyError, StrategyService
from kash_tui.domains.trading import models, research, run_rows
from kash_tui.domains.trading.engine import checked_signals
from kash_tui.domains.trading.engine import run_backtest as run_engine
from kash_tui.domains.trading.executor import LocalExecutor
from kash_tui.domains.trading.service import (
    MAX_SWEEP_COMBINATIONS,
    Account,
    AccountSnapshot,
    AccountWatch,
    AssetInfo,
    BacktestReport,
    BacktestRequest,
    BacktestSettings,
    Capabilities,
    ConnectionInfo,
    FeedStatus,
    FillModel,
    FillSensitivity,
    GridExecutor,
    Order,
    OrderPreview,
    OrderRequest,
    OrderSide,
    Position,
    SignalColumns,
    OutOfSample,
    RoundTripColumns,
    Span,
    SweepReport,
    SweepRow,
    WalkForwardReport,
    WalkForwardRun,
    WalkForwardWindow,
    best_row,
    parse_rank_by,
    rank_key,
    Trade,
    TradingAdapter,
    TradingError,
    UniverseBacktestRequest,
)
from kash_tui.domains.trading.sweeps import GridPlan, SweepContext, run_combination, scored_rows
from kash_tui.domains.workspace import Portfolio, PortfolioMode, WorkspaceService

if TYPE_CHECKING:
    from kash_tui.domains.trading import repo
else:  # the ORM side, imported when first used: a backtest stores its run without it
    from kash_tui.lazy import lazy_module

    repo = lazy_module("kash_tui.domains.trading.repo")

NS = 1_000_000_000


# Starting cash, final equity and the end position are stored as Numeric(38, 16); fills are
# float64 in the run row but shown as Decimals (orders, trades), so they keep the same bounds.
_STORABLE_MAX = 1e22  # Numeric(38, 16): 22 digits before the point
_STORABLE_MIN_QTY = 1e-16  # and 16 after it


def _check_storable(settings: BacktestSettings, series: BarSeries, result: Any) -> None:
    """Refuse, before anything is written, a run whose amounts the database cannot hold
    (PostgreSQL would fail with a numeric overflow; tiny quantities would be stored as 0)."""
    fc = result.fill_columns
    largest = max(
        settings.initial_cash,
        abs(result.metrics.final_equity),
        float(series.close[-1]),
        *(float(np.abs(a).max()) for a in (fc.qty, fc.price, fc.commission) if len(a)),
    )
    if not largest < _STORABLE_MAX:
        raise TradingError(
            f"This run's amounts are too large to store (up to {largest:.3g}; the limit is "
            f"{_STORABLE_MAX:.0e}); use a smaller starting cash."
        )
    if len(fc) and float(fc.qty.min()) < _STORABLE_MIN_QTY:
        raise TradingError(
            f"This run trades quantities too small to store ({float(fc.qty.min()):.3g}; the "
            f"smallest is {_STORABLE_MIN_QTY:.0e}); use a larger starting cash."
        )


def _times(timestamps: np.ndarray) -> Callable[[int], datetime]:
    """The UTC time of bar ``i`` of ``timestamps`` (int64 ns)."""
    from datetime import UTC

    return lambda i: datetime.fromtimestamp(int(timestamps[i]) // NS, tz=UTC)


def _sensitivity(
    series: BarSeries, signals: np.ndarray, settings: BacktestSettings, result: Any
) -> FillSensitivity | None:
    """The run's total return and trade count under the other intrabar order, when a bar could
    touch both a stop and a target (None otherwise). Without ambiguous bars the other order
    takes every exit the same way, so the run is not repeated."""
    stops = settings.stop_loss_pct is not None or settings.trailing_stop_pct is not None
    if not (stops and settings.take_profit_pct is not None):
        return None
    other = settings.intrabar.other
    if result.ambiguous_bars == 0:
        return FillSensitivity(other, result.metrics.total_return_pct,
                               result.metrics.round_trips, 0)
    alt = run_engine(
        series.open, series.high, series.low, series.close, series.timestamps, signals,
        replace(settings, intrabar=other),
    )
    return FillSensitivity(other, alt.metrics.total_return_pct, alt.metrics.round_trips,
                           alt.ambiguous_bars)


class SqlTradingService:
    def __init__(
        self,
        db: Database,
        market: MarketService,
        strategies: StrategyService,
        workspaces: WorkspaceService,
        connections: ConnectionService | None = None,
        *,
        http_timeout: float = 10.0,
        poll_interval: float = 5.0,
        stream_account: bool = True,
        executor: GridExecutor | None = None,
    ) -> None:
        self._executor: GridExecutor = executor if executor is not None else LocalExecutor()
        self._connections = connections
        self._http_timeout = http_timeout
        self._poll_interval = poll_interval
        self._stream_account = stream_account
        self._db = db
        self._market = market
        self._strategies = strategies
        self._workspaces = workspaces

    # -- backtests ----------------------------------------------------------------------------

    def _portfolio(self, portfolio_id: int | None) -> Portfolio | None:
        if portfolio_id is None:
            return None
        portfolio = self._workspaces.get_portfolio(portfolio_id)
        if portfolio.mode is not PortfolioMode.BACKTEST:
            raise TradingError(
                f"Portfolio {portfolio.name!r} is a {portfolio.mode.value} portfolio; backtests "
                "run on BACKTEST portfolios."
            )
        return portfolio

    def _prepare(
        self,
        request: BacktestRequest,
        progress: Callable[[int, int], None] | None = None,
    ) -> tuple[Strategy, BarSeries, BacktestSettings]:
        strategy = self._strategies.create_with_params(request.strategy_id, request.params)
        timeframe = Timeframe.parse(request.timeframe)
        if request.start and request.end and request.start > request.end:
            raise TradingError(
                f"The start {request.start:%Y-%m-%d} is after the end {request.end:%Y-%m-%d}; "
                "swap them."
            )
        self._portfolio(request.portfolio_id)
        series = self._market.load_bars(
            request.symbol, timeframe, request.start, request.end, progress=progress
        )
        settings = replace(
            request.settings, periods_per_year=timeframe.periods_per_year(series.asset_class)
        )
        return strategy, series, settings

    def run_backtest(
        self,
        request: BacktestRequest,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> BacktestReport:
        # progress: loading the bars is the first half, then signals, engine, storing
        loading = (lambda done, total: progress(done, 2 * max(total, 1))) if progress else None
        strategy, series, settings = self._prepare(request, loading)
        signals = checked_signals(strategy.generate_signals(series), len(series))
        if progress:
            progress(2, 4)
        result = run_engine(
            series.open, series.high, series.low, series.close, series.timestamps, signals,
            settings,
        )
        sensitivity = _sensitivity(series, signals, settings, result)
        if progress:
            progress(3, 4)
        run = self._store(request, strategy, series, settings, signals, result,
                          sensitivity=sensitivity)
        if progress:
            progress(4, 4)
        at = np.flatnonzero(signals)
        signal_columns = SignalColumns(
            index=at, kind=signals[at], price=series.close[at], timestamps=series.timestamps
        )
        return BacktestReport(
            run=run,
            timestamps=series.timestamps,
            equity=result.equity,
            fills=result.fills,
            round_trips=result.round_trips,
            signals=signal_columns.rows(),
            fill_columns=result.fill_columns,
            round_trip_columns=result.round_trip_columns,
            signal_columns=signal_columns,
        )

    def _store(self, request, strategy, series, settings, signals, result,  # noqa: ANN001, ANN202
               *, sensitivity: FillSensitivity | None = None):
        ts_sec = series.timestamps // NS
        fc = result.fill_columns
        lag = 1 if settings.fill_model is FillModel.NEXT_OPEN else 0
        _check_storable(settings, series, result)
        sig_idx = np.flatnonzero(signals)
        # rows: bar index, +1/-1, the close the signal was computed at (float64: indices are
        # exact below 2**53); runs stored before the price row have two int64 rows
        packed_signals = np.stack([
            sig_idx.astype(np.float64),
            signals[sig_idx].astype(np.float64),
            series.close[sig_idx].astype(np.float64),
        ])
        values = {
            "portfolio_id": request.portfolio_id,
            "created_at": utc_now(),
            "strategy_id": strategy.id,
            "params_json": models.params_to_json(strategy.params.model_dump(mode="json")),
            "symbol": series.symbol,
            "timeframe": series.timeframe.value,
            "requested_start": request.start,
            "requested_end": request.end,
            "first_bar_ts": int(ts_sec[0]),
            "last_bar_ts": int(ts_sec[-1]),
            "bar_count": len(series),
            "initial_cash": models.to_decimal(settings.initial_cash),
            "commission": settings.commission,
            "slippage": settings.slippage,
            "position_size_pct": settings.position_size_pct,
            "whole_shares": settings.whole_shares,
            "fill_model": settings.fill_model.value,
            "periods_per_year": settings.periods_per_year,
            "final_equity": models.to_decimal(result.metrics.final_equity),
            "metrics_json": models.metrics_to_json(result.metrics),
            "timestamps_blob": models.pack_timestamps(series.timestamps),
            "equity_blob": models.pack_steps(result.equity),
            "signals_blob": models.pack(packed_signals),
            "fills_blob": models.pack_fills(fc, ts_sec, lag),
            "last_close": float(series.close[-1]),
            "stop_loss_pct": settings.stop_loss_pct,
            "take_profit_pct": settings.take_profit_pct,
            "trailing_stop_pct": settings.trailing_stop_pct,
            "intrabar": settings.intrabar.value,
            "ambiguous_bars": int(getattr(result, "ambiguous_bars", 0)),
            "other_total_return_pct": sensitivity.total_return_pct if sensitivity else None,
            "other_round_trips": sensitivity.round_trips if sensitivity else None,
            "other_ambiguous_bars": sensitivity.ambiguous_bars if sensitivity else None,
        }
        # one transaction on a raw connection: the run row holds every array as one blob, so
        # storing a million-bar run is two INSERTs, without the ORM
        with self._db.raw() as conn:
            run_id = run_rows.insert_run(conn, values)
            held = float(result.position[-1])
            if held > 0:
                entry = result.round_trips[-1]
                run_rows.insert_position(conn, {
                    "run_id": run_id, "symbol": series.symbol,
                    "qty": models.to_decimal(held),
                    "avg_entry_price": models.to_decimal(entry.entry_price),
                    "last_price": models.to_decimal(float(series.close[-1])),
                })
        return models.to_run(SimpleNamespace(id=run_id, **values))

    def run_universe_backtest(
        self,
        request: UniverseBacktestRequest,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> BacktestReport:
        from kash_tui.domains.trading import universe_runs

        return universe_runs.run(self, request, progress)

    def list_runs(self, portfolio_id: int | None = None):  # noqa: ANN201
        with self._db.unit_of_work() as s:
            rows = repo.runs(s, portfolio_id)
            universes = repo.universe_rows(s, [r.id for r in rows])
            runs = [models.to_run(r) for r in rows]
        if not universes:
            return runs
        from kash_tui.domains.trading import universe_runs

        return [replace(r, universe=universe_runs.info_of(universes[r.id]))
                if r.id in universes else r for r in runs]

    def get_run(self, run_id: int) -> BacktestReport:
        with self._db.unit_of_work() as s:
            row = repo.run(s, run_id)
            if row is None:
                raise TradingError(
                    f"There is no backtest run #{run_id}; list them with `kash runs list`."
                )
            run = models.to_run(row)
            universe = repo.universe_rows(s, [run_id]).get(run_id)
            if universe is not None:
                from kash_tui.domains.trading import universe_runs

                return universe_runs.report_of(run, row, universe)
            timestamps = models.unpack_timestamps(row.timestamps_blob)
            equity = models.unpack(row.equity_blob)
            packed = models.unpack(row.signals_blob)
            fills = models.fill_columns(models.unpack(row.fills_blob))
            last_close = row.last_close
        at = packed[0].astype(np.int64)
        prices = packed[2] if packed.shape[0] > 2 else np.full(at.shape[0], np.nan)
        signal_columns = SignalColumns(
            index=at, kind=packed[1].astype(np.int8), price=prices.astype(np.float64),
            timestamps=timestamps,
        )
        trips = fills.round_trips(float(last_close or 0.0))
        return BacktestReport(
            run=run,
            timestamps=timestamps,
            equity=equity,
            fills=fills.rows(),
            round_trips=trips.rows(),
            signals=signal_columns.rows(),
            fill_columns=fills,
            round_trip_columns=trips,
            signal_columns=signal_columns,
        )

    # -- sweeps -------------------------------------------------------------------------------

    def sweep(
        self,
        request: BacktestRequest,
        grid: Mapping[str, Sequence[Any]],
        *,
        rank_by: str = "sharpe",
        progress: Callable[[int, int], None] | None = None,
        oos: float | None = None,
    ) -> SweepReport:
        metric, robust = parse_rank_by(rank_by)
        if oos is not None and not (isinstance(oos, (int, float)) and 0 < oos < 1):
            raise TradingError(
                f"The out-of-sample share must be above 0 % and below 100 % (got {oos!r}); "
                "give for example --oos 30%."
            )
        plan = self._grid(request, grid)
        series, settings, skipped = plan.series, plan.settings, plan.skipped
        total = plan.total
        if progress:
            progress(len(skipped), total)
        tick = (lambda done: progress(len(skipped) + done, total)) if progress else None
        split = None
        if oos is None:
            # Every combination runs as a job of the executor (all cores by default), sharing
            # the bars and one indicator cache: each strategy decides what it computes once.
            metrics = self._executor.map(
                run_combination, SweepContext(series, series.timestamps, settings),
                plan.strategies, progress=tick,
            )
        else:
            n = len(series)
            held_out = int(round(n * oos))
            split = n - held_out
            if split < 2 or held_out < 2:
                raise TradingError(
                    f"{n} bars are too few to hold out {oos:.0%} (each part needs at least two "
                    "bars); load more history or change --oos."
                )
            context = research.PartContext.over(series, settings, [split, n])
            metrics = self._executor.map(
                research.run_part, context,
                [research.Part(0, split, s) for s in plan.strategies], progress=tick,
            )
        rows = scored_rows(plan, metrics, metric)  # in grid order, as plan.strategies
        order = sorted(range(len(rows)), key=lambda k: rank_key(rows[k], metric, robust=robust))
        out_of_sample = None
        if split is not None:
            best, chosen = rows[order[0]], plan.strategies[order[0]]
            result = research.run_part_result(context, research.Part(split, len(series), chosen))
            when = _times(series.timestamps)
            out_of_sample = OutOfSample(
                fraction=float(oos), in_sample_bars=split,
                out_of_sample_bars=len(series) - split,
                in_sample_first=when(0), in_sample_last=when(split - 1),
                out_of_sample_first=when(split), out_of_sample_last=when(len(series) - 1),
                params=dict(best.params), in_sample=best.metrics,
                out_of_sample=result.metrics,
            )
        return SweepReport(
            request=replace(request, settings=settings),
            grid={k: list(v) for k, v in grid.items()},
            rank_by=rank_by,
            rows=tuple(rows[k] for k in order),
            skipped=tuple(skipped),
            oos=out_of_sample,
        )

    def _grid(self, request: BacktestRequest, grid: Mapping[str, Sequence[Any]]) -> GridPlan:
        """The bars and every valid combination of ``grid`` (with its place in the grid)."""
        if not grid or any(len(v) == 0 for v in grid.values()):
            raise TradingError("The sweep grid is empty; give e.g. short_period=5:50:5.")
        total = math.prod(len(v) for v in grid.values())
        if total > MAX_SWEEP_COMBINATIONS:
            raise TradingError(
                f"This sweep has {total:,} combinations but a sweep may have at most "
                f"{MAX_SWEEP_COMBINATIONS:,}; narrow the ranges or take larger steps."
            )
        base, series, settings = self._prepare(request)
        known = set(base.params_schema().get("properties", {}))
        unknown = [k for k in grid if k not in known]
        if unknown:
            raise StrategyError(
                f"Unknown parameter {unknown[0]!r} for {base.id}; valid parameters are "
                f"{', '.join(sorted(known))}."
            )
        names = list(grid)
        strategies: list[Strategy] = []
        cells: list[tuple[int, ...]] = []
        skipped: list[tuple[dict[str, Any], str]] = []
        shape = tuple(len(grid[k]) for k in names)
        for cell in itertools.product(*(range(size) for size in shape)):
            values = [grid[k][i] for k, i in zip(names, cell, strict=True)]
            params = {**dict(request.params), **dict(zip(names, values, strict=True))}
            try:
                strategies.append(base.with_params(params))
                cells.append(cell)
            except StrategyError as exc:
                skipped.append((params, str(exc)))
        if not strategies:
            raise TradingError(
                "No combination of the sweep is valid for this strategy; "
                f"the first was refused: {skipped[0][1]}"
            )
        return GridPlan(series, settings, shape, strategies, cells, skipped, total)

    # -- walk-forward -------------------------------------------------------------------------

    def walk_forward(
        self,
        request: BacktestRequest,
        grid: Mapping[str, Sequence[Any]],
        *,
        train: Span,
        test: Span,
        anchored: bool = False,
        rank_by: str = "sharpe",
        progress: Callable[[int, int], None] | None = None,
    ) -> WalkForwardReport:
        metric, robust = parse_rank_by(rank_by)
        plan = self._grid(request, grid)
        series, settings = plan.series, plan.settings
        windows = research.plan_windows(series.timestamps, train, test, anchored=anchored)
        if not windows:
            when = _times(series.timestamps)
            raise TradingError(
                f"The {len(series):,} bars from {when(0):%Y-%m-%d} to "
                f"{when(len(series) - 1):%Y-%m-%d} are too few for one window of {train} "
                f"training and {test} test; load more history or shorten --train/--test."
            )
        cells = len(plan.strategies)
        total = len(windows) * cells + len(windows)
        ends = [w.test_start for w in windows] + [w.test_end for w in windows]
        context = research.PartContext.over(series, settings, ends)
        # every window x cell is one job, on all cores: the windows' training parts
        jobs = [research.Part(w.train_start, w.test_start, s)
                for w in windows for s in plan.strategies]
        metrics = self._executor.map(
            research.run_part, context, jobs,
            progress=(lambda done: progress(done, total)) if progress else None,
        )
        chosen: list[tuple[SweepRow, Strategy]] = []
        for k in range(len(windows)):
            rows = scored_rows(plan, metrics[k * cells:(k + 1) * cells], metric)
            best = best_row(rows, metric, robust=robust)
            assert best is not None
            chosen.append((best, plan.strategies[rows.index(best)]))
        # the chosen cells' signals on the test parts (in parallel), then the test parts one
        # after another: each starts with the equity the one before ended with
        tests = [research.Part(w.test_start, w.test_end, c[1]) for w, c in zip(
            windows, chosen, strict=True)]
        signals = self._executor.map(
            research.part_signals, context, tests,
            progress=(lambda done: progress(len(jobs) + done, total)) if progress else None,
        )
        cash = settings.initial_cash
        results = []
        for part, sig in zip(tests, signals, strict=True):
            result = research.run_part_result(context, replace(part, cash=cash), sig)
            results.append(result)
            cash = float(result.metrics.final_equity)
        report = self._stitch(request, plan, windows, chosen, results, train, test, anchored,
                              rank_by, grid)
        return self._store_walk_forward(report)

    def _stitch(self, request, plan, windows, chosen, results, train, test, anchored,  # noqa: ANN001, ANN202, PLR0913
                rank_by, grid):
        from kash_tui.domains.trading.engine import compute_metrics

        series, settings = plan.series, plan.settings
        when = _times(series.timestamps)
        first, last = windows[0].test_start, windows[-1].test_end
        equity = np.concatenate([r.equity for r in results])
        position = np.concatenate([r.position for r in results])
        # each part's trips on the stitched curve's bar numbers; a position a test part still
        # holds at its end is settled at that part's last close (the next part starts flat with
        # that equity), so it counts as a closed trip there; only the last part's stays open
        parts = []
        for k, (w, r) in enumerate(zip(windows, results, strict=True)):
            t = r.round_trip_columns
            shift = w.test_start - first
            settled = t.is_open & (k < len(results) - 1)
            end = w.test_end - 1
            parts.append({
                "entry_index": t.entry_index + shift,
                "exit_index": np.where(settled, end - first,
                                       np.where(t.is_open, t.exit_index, t.exit_index + shift)),
                "entry_price": t.entry_price,
                "exit_price": np.where(settled, series.close[end], t.exit_price),
                "qty": t.qty, "pnl": t.pnl, "return_pct": t.return_pct,
                "is_open": t.is_open & ~settled,
            })
        stitched_trips = RoundTripColumns(**{
            name: np.concatenate([part[name] for part in parts])
            for name in ("entry_index", "exit_index", "entry_price", "exit_price", "qty", "pnl",
                         "return_pct", "is_open")
        })
        metrics = compute_metrics(equity, position, series.close[first:last],
                                  series.timestamps[first:last], stitched_trips, settings)
        rows = []
        for number, (w, (best, _s), result) in enumerate(
                zip(windows, chosen, results, strict=True), start=1):
            rows.append(WalkForwardWindow(
                number=number, train_start=w.train_start, train_end=w.test_start,
                test_start=w.test_start, test_end=w.test_end,
                train_first=when(w.train_start), train_last=when(w.test_start - 1),
                test_first=when(w.test_start), test_last=when(w.test_end - 1),
                params=dict(best.params), train=best.metrics, test=result.metrics,
                candidates=len(plan.strategies),
            ))
        cagrs = [w.train.cagr_pct for w in rows if w.train.cagr_pct is not None]
        return WalkForwardReport(
            id=0, created_at=utc_now(), request=replace(request, settings=settings),
            grid={k: list(v) for k, v in grid.items()}, rank_by=rank_by, train=train,
            test=test, anchored=anchored, bar_count=len(series), first_bar=when(0),
            last_bar=when(len(series) - 1), windows=tuple(rows),
            timestamps=np.ascontiguousarray(series.timestamps[first:last]), equity=equity,
            metrics=metrics,
            in_sample_cagr_pct=float(np.mean(cagrs)) if cagrs else None,
            skipped=len(plan.skipped), portfolio_id=request.portfolio_id,
        )

    def sweep_universe(
        self,
        request: UniverseBacktestRequest,
        grid: Mapping[str, Sequence[Any]],
        *,
        rank_by: str = "sharpe",
        progress: Callable[[int, int], None] | None = None,
        oos: float | None = None,
    ) -> SweepReport:
        from kash_tui.domains.trading import universe_research

        return universe_research.sweep(self, request, grid, rank_by=rank_by, progress=progress,
                                       oos=oos)

    def walk_forward_universe(
        self,
        request: UniverseBacktestRequest,
        grid: Mapping[str, Sequence[Any]],
        *,
        train: Span,
        test: Span,
        anchored: bool = False,
        rank_by: str = "sharpe",
        progress: Callable[[int, int], None] | None = None,
    ) -> WalkForwardReport:
        from kash_tui.domains.trading import universe_research

        report = universe_research.walk_forward(
            self, request, grid, train=train, test=test, anchored=anchored, rank_by=rank_by,
            progress=progress)
        return self._store_walk_forward(report)

    def _store_walk_forward(self, report: WalkForwardReport) -> WalkForwardReport:
        from kash_tui.domains.trading import walkforward_rows

        with self._db.raw() as conn:
            run_id = walkforward_rows.insert(conn, report)
        return replace(report, id=run_id)

    def list_walk_forwards(self, portfolio_id: int | None = None) -> list[WalkForwardRun]:
        from kash_tui.domains.trading import walkforward_rows

        with self._db.raw() as conn:
            return walkforward_rows.listing(conn, portfolio_id)

    def get_walk_forward(self, run_id: int) -> WalkForwardReport:
        from kash_tui.domains.trading import walkforward_rows

        with self._db.raw() as conn:
            report = walkforward_rows.read(conn, run_id)
        if report is None:
            raise TradingError(
                f"There is no walk-forward run wf{run_id}; list them with `kash runs list`."
            )
        return report

    # -- adapters -----------------------------------------------------------------------------

    def resolve_trading_adapter(
        self, portfolio_id: int, run_id: int | None = None
    ) -> TradingAdapter:
        portfolio = self._workspaces.get_portfolio(portfolio_id)
        if portfolio.mode is not PortfolioMode.BACKTEST:
            if run_id is not None:
                raise TradingError(
                    f"Portfolio {portfolio.name!r} is {portfolio.mode.value}; only BACKTEST "
                    "portfolios have backtest runs."
                )
            return self._broker_adapter(portfolio)
        with self._db.unit_of_work() as s:
            row = repo.run(s, run_id) if run_id is not None else repo.latest_run(s, portfolio_id)
            if row is None or row.portfolio_id != portfolio_id:
                raise TradingError(
                    f"Portfolio {portfolio.name!r} has no backtest runs yet; run one with "
                    f"`kash backtest --portfolio '{portfolio.name}' --symbol SYM --strategy ID`."
                )
            run_id = row.id
        return BacktestTradingAdapter(self, run_id)


    def _broker_adapter(self, portfolio: Portfolio) -> TradingAdapter:
        from kash_tui.domains.connection import Environment
        from kash_tui.domains.connection.alpaca import open_session
        from kash_tui.domains.trading.alpaca_adapter import AlpacaTradingAdapter

        if portfolio.connection_name is None or self._connections is None:
            raise TradingError(
                f"Portfolio {portfolio.name!r} is {portfolio.mode.value} but has no broker "
                "connection; attach one in the Workspaces place (see docs/alpaca.md)."
            )
        conn = self._connections.get(portfolio.connection_name)
        wants_live = portfolio.mode is PortfolioMode.LIVE
        if wants_live != (conn.environment is Environment.LIVE):
            raise TradingError(
                f"Portfolio {portfolio.name!r} is {portfolio.mode.value} but connection "
                f"{conn.name!r} is a {conn.environment.value} connection; attach a "
                f"{'live' if wants_live else 'paper'} connection to it."
            )
        credentials = self._connections.credentials(conn.name)
        session = open_session(conn, credentials, self._http_timeout)
        return AlpacaTradingAdapter(
            session, db=self._db, portfolio_id=portfolio.id, mode=portfolio.mode.value
        )

    def simulate(self, bars: Any, signals: np.ndarray, settings: BacktestSettings):  # noqa: ANN201
        return run_engine(
            bars.open, bars.high, bars.low, bars.close, bars.timestamps,
            checked_signals(signals, len(bars.close)), settings,
        )

    def watch_account(
        self,
        portfolio_id: int,
        on_snapshot: Callable[[AccountSnapshot], None],
        on_status: Callable[[FeedStatus], None],
        *,
        poll_interval: float | None = None,
    ) -> AccountWatch:
        from kash_tui.domains.trading.watch import AccountWatcher

        adapter = self.resolve_trading_adapter(portfolio_id)
        if not adapter.capabilities.can_trade:
            raise TradingError("A backtest portfolio has nothing live to watch.")
        return AccountWatcher(
            adapter, portfolio_id, on_snapshot, on_status,
            poll_interval=poll_interval or self._poll_interval,
            use_stream=self._stream_account and adapter.capabilities.streams,
        ).start()


class BacktestTradingAdapter:
    """A stored backtest run seen through the same interface as a broker account."""

    def __init__(self, service: SqlTradingService, run_id: int) -> None:
        self._service = service
        self._run_id = run_id

    @property
    def mode(self) -> str:
        return PortfolioMode.BACKTEST.value

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(can_trade=False, live=False, streams=False)

    def connection(self) -> ConnectionInfo:
        return BacktestConnection()

    def _refuse(self) -> TradingError:
        return TradingError(
            "A backtest portfolio cannot place or cancel orders; use a PAPER portfolio "
            "(see docs/alpaca.md)."
        )

    def get_asset(self, symbol: str) -> AssetInfo:
        run, *_rest = self._rows()
        return AssetInfo(symbol=run.symbol, asset_class="us_equity", tradable=False)

    def preview_order(self, request: OrderRequest) -> OrderPreview:
        raise self._refuse()

    def submit_order(self, request: OrderRequest, *, confirm_live: bool = False) -> Order:
        raise self._refuse()

    def get_clock(self):  # noqa: ANN201
        raise self._refuse()

    def cancel_order(self, order_id: str) -> None:
        raise self._refuse()

    def close_position(self, symbol: str, *, confirm_live: bool = False) -> Order:
        raise self._refuse()

    def unresolved_ticket(self, request: OrderRequest) -> None:
        return None  # a backtest sends nothing

    def _rows(self):  # noqa: ANN202
        """(run, final equity, fill records, end positions) of the stored run."""
        db = self._service._db  # noqa: SLF001
        with db.unit_of_work() as s:
            run = repo.run(s, self._run_id)
            if run is None:
                raise TradingError(f"Backtest run #{self._run_id} no longer exists.")
            return (
                models.to_run(run),
                float(models.unpack(run.equity_blob)[-1]),
                models.unpack(run.fills_blob),
                repo.positions(s, self._run_id),
            )

    def _positions(self) -> tuple[float, list[Position]]:
        _run, equity, _fills, rows = self._rows()
        # the stored Decimals as written (15 significant digits of the engine's floats):
        # SQLite keeps NUMERIC as a float and returns it with binary noise in the last places
        dec = models.to_decimal
        out = []
        for p in rows:
            qty, entry, last = dec(float(p.qty)), dec(float(p.avg_entry_price)), dec(
                float(p.last_price))
            out.append(Position(
                symbol=p.symbol, qty=qty, avg_entry_price=entry, current_price=last,
                market_value=qty * last, unrealized_pl=(last - entry) * qty,
            ))
        return equity, out

    def get_account(self) -> Account:
        equity, positions = self._positions()
        held = sum((p.market_value for p in positions), start=models.to_decimal(0.0))
        equity_d = models.to_decimal(equity)
        cash = equity_d - held
        return Account(cash=cash, equity=equity_d, buying_power=cash)

    def get_positions(self) -> list[Position]:
        return self._positions()[1]

    def get_orders(self, status: str = "all") -> list[Order]:
        """One market order per fill (a backtest order fills at once), in the order placed."""
        if status not in ("open", "closed", "all"):
            raise TradingError(f"Unknown order status {status!r}; use open, closed or all.")
        run, _eq, fills, _pos = self._rows()
        if status == "open":
            return []  # a finished backtest has no working orders
        dec, when = models.to_decimal, models.ts_to_datetimes
        return [
            Order(
                id=f"bt-{self._run_id}-{k}", symbol=run.symbol,
                side=OrderSide.BUY if buy else OrderSide.SELL, qty=dec(qty),
                order_type="market", status="filled", submitted_at=placed,
                filled_at=filled, filled_qty=dec(qty), filled_avg_price=dec(price),
            )
            for k, (placed, filled, buy, qty, price) in enumerate(zip(
                when(fills["signal_ts"]), when(fills["ts"]), fills["buy"].tolist(),
                fills["qty"].tolist(), fills["price"].tolist(), strict=True,
            ))
        ]

    def get_trades(self, limit: int | None = None) -> list[Trade]:
        trades = self._all_trades()
        if limit is None:
            return trades
        return trades[-limit:] if limit > 0 else []  # the newest: fills are in time order

    def _all_trades(self) -> list[Trade]:
        run, _eq, fills, _pos = self._rows()
        dec = models.to_decimal
        return [
            Trade(
                id=f"bt-{self._run_id}-fill-{k}", order_id=f"bt-{self._run_id}-{k}",
                symbol=run.symbol, side=OrderSide.BUY if buy else OrderSide.SELL, qty=dec(qty),
                price=dec(price), commission=dec(commission), time=filled,
            )
            for k, (filled, buy, qty, price, commission) in enumerate(zip(
                models.ts_to_datetimes(fills["ts"]), fills["buy"].tolist(), fills["qty"].tolist(),
                fills["price"].tolist(), fills["commission"].tolist(), strict=True,
            ))
        ]
