"""What the Deployments place reads, in its workers: the deployments of the workspace with the
journal entries of the chosen one since the last shown (:func:`read_view`, every poll), and
the chosen one's chart and parity report (:func:`read_detail`, when it has news). Nothing here
touches a widget.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kash_tui.domains.deployment import Deployment, JournalEntry, ParityReport
    from kash_tui.provider import ServiceProviderProtocol
    from kash_tui.tui.widgets.candles import ChartData

JOURNAL_FIRST = 500
"""Journal entries read when a deployment is chosen (the newest); later polls read the new
ones."""


@dataclass(frozen=True)
class View:
    """One poll: the deployments, and the journal entries of ``name`` after ``after_id``."""

    workspace: str | None
    deployments: tuple[Deployment, ...]
    name: str | None
    after_id: int | None
    entries: tuple[JournalEntry, ...] = ()
    now: datetime | None = None


def read_view(provider: ServiceProviderProtocol, workspace: str | None, name: str | None,
              after_id: int | None) -> View:
    from datetime import UTC, datetime

    from kash_tui.domains.deployment import DeploymentNotFound

    service = provider.deployment
    deployments = tuple(service.list(workspace))
    entries: tuple[JournalEntry, ...] = ()
    if name is not None and any(d.name == name for d in deployments):
        try:
            if after_id is None:
                entries = tuple(service.journal(name, limit=JOURNAL_FIRST))
            else:
                entries = tuple(service.journal(name, after_id=after_id))
        except DeploymentNotFound:  # deleted from elsewhere meanwhile
            entries = ()
    return View(workspace, deployments, name, after_id, entries, datetime.now(UTC))


def detail_signature(d: Deployment) -> tuple[object, ...]:
    """What changes the chart of ``d``: a new bar, signal or fill (the position or the P&L),
    a new state. The parity report is read again only when its journal gained a signal or a
    fill, or every :data:`PARITY_REFRESH_SECONDS` (see :func:`read_detail`)."""
    return (d.name, d.last_bar_at, d.last_signal_at, d.position_qty, d.pnl, d.state,
            d.orders_today)


PARITY_REFRESH_SECONDS = 300.0
"""The parity report replays every bar the deployment saw and reads its whole journal (a
deployment on minute bars has 100,000 entries in a few months; 1.8 s here at 100,000 bars and
100,000 entries): it is computed again when a signal or a fill was journaled since the last
one, or when the last one is this old (so a signal the deployment missed shows up without a
live one), never on every bar."""


@dataclass(frozen=True, eq=False)
class Detail:
    """The chosen deployment's chart (bars, its signals, its live fills and the backtest's
    fills of the same bars) and its parity report."""

    name: str
    signature: tuple[object, ...]
    data: ChartData
    chart_problem: str = ""
    parity: ParityReport | None = None
    parity_problem: str = ""
    signals: int = 0
    live_fills: int = 0
    backtest_fills: int = 0
    marks: tuple[JournalEntry, ...] = ()
    """The deployment's signal and fill entries so far (read once, then only the new ones)."""
    parity_at: float = 0.0
    """``time.monotonic()`` when the parity report was computed."""


def _ns(when: datetime) -> int:
    return int(when.timestamp()) * 1_000_000_000 + when.microsecond * 1_000


def read_detail(provider: ServiceProviderProtocol, d: Deployment, previous: Detail | None = None,
                *, force: bool = False) -> Detail:
    """Bars of ``d``'s symbol with its strategy's indicators; markers: the deployment's signals
    (hollow), its live fills (solid) and the backtest's fills (small, beside them). The parity
    report of ``previous`` (the same deployment's last detail) is kept unless the journal
    gained a signal or a fill since, it is :data:`PARITY_REFRESH_SECONDS` old, or ``force``.
    Worker."""
    import time

    import numpy as np

    from kash_tui.domains.deployment import DeploymentError, EventKind
    from kash_tui.errors import user_sentence
    from kash_tui.tui.chart_reads import ChartRequest, load_chart
    from kash_tui.tui.state import StrategyChoice
    from kash_tui.tui.widgets.candles import Marker

    signature = detail_signature(d)
    kinds = (EventKind.SIGNAL, EventKind.FILL)
    if previous is not None and previous.name == d.name and previous.marks:
        new_marks = tuple(provider.deployment.journal(
            d.name, kinds=kinds, after_id=previous.marks[-1].id))
        marks = previous.marks + new_marks
    else:
        new_marks = marks = tuple(provider.deployment.journal(d.name, kinds=kinds))
    fresh = (previous is not None and previous.name == d.name and not force and not new_marks
             and (previous.parity is not None or previous.parity_problem)
             and time.monotonic() - previous.parity_at < PARITY_REFRESH_SECONDS)
    if fresh:
        assert previous is not None
        parity, parity_problem, parity_at = (previous.parity, previous.parity_problem,
                                             previous.parity_at)
    else:
        parity = None
        parity_problem = ""
        parity_at = time.monotonic()
        try:
            parity = provider.deployment.parity(d.name)
        except DeploymentError as exc:
            parity_problem = str(exc)
        except Exception as exc:  # noqa: BLE001 - a broker or database sentence, in the panel
            parity_problem = user_sentence(exc) or f"The parity report failed: {exc}"
    load = load_chart(provider, ChartRequest(
        d.symbol, d.timeframe, StrategyChoice(d.strategy_id, dict(d.params))))
    bars = load.bars
    if bars is None or not len(bars):
        return Detail(d.name, signature, load.data, load.problem, parity, parity_problem,
                      marks=marks, parity_at=parity_at)
    times = np.asarray(bars.timestamps, dtype=np.int64)
    n = len(times)

    def index_of(when: datetime | None) -> int | None:
        """The bar that holds ``when`` (None: before the first bar)."""
        if when is None:
            return None
        i = int(np.searchsorted(times, _ns(when), "right")) - 1
        return i if 0 <= i < n else None

    def side(text: object) -> str:
        return "buy" if str(text).lower() == "buy" else "sell"

    markers: list[Marker] = []
    signals = live = backtest = 0
    for entry in marks:
        if entry.kind is EventKind.SIGNAL and (i := index_of(entry.bar_at)) is not None:
            markers.append(Marker(i, side(entry.data.get("side")), "signal"))  # type: ignore[arg-type]
            signals += 1
        elif entry.kind is EventKind.FILL:
            filled = entry.data.get("filled_at")
            at = datetime.fromisoformat(filled) if isinstance(filled, str) else None
            i = index_of(at) if at is not None else None
            if i is None and (j := index_of(entry.bar_at)) is not None and j + 1 < n:
                i = j + 1  # the next open, where the order went
            if i is not None:
                markers.append(Marker(i, side(entry.data.get("side")), "fill"))  # type: ignore[arg-type]
                live += 1
    for fill in parity.fills if parity is not None else ():
        j = index_of(fill.signal_bar_at)
        if fill.backtest_price is not None and j is not None and j + 1 < n:
            markers.append(Marker(j + 1, side(fill.side), "backtest"))  # type: ignore[arg-type]
            backtest += 1
    data = replace(load.data, markers=tuple(markers))
    return Detail(d.name, signature, data, load.strategy_problem, parity, parity_problem,
                  signals, live, backtest, marks, parity_at)


__all__ = ["JOURNAL_FIRST", "PARITY_REFRESH_SECONDS", "Detail", "View", "detail_signature", "read_detail",
           "read_view"]
