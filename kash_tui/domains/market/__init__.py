"""Market domain: instruments, bars (as numpy arrays), CSV import, demo data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kash_tui.domains.market.service import (
    NS_PER_SECOND,
    AssetClass,
    BarSeries,
    CsvRejected,
    DataSummary,
    ImportReport,
    Instrument,
    MarketError,
    MarketService,
    NoBarsError,
    ProgressCallback,
    RowProblem,
    Timeframe,
    AssetHit,
    BarWatch,
    FetchReport,
    OptionChain,
    OptionChainRow,
    OptionQuote,
    OptionType,
)

if TYPE_CHECKING:
    from kash_tui.db import Database
    from kash_tui.domains.connection import ConnectionService

__all__ = [
    "NS_PER_SECOND",
    "AssetClass",
    "BarSeries",
    "CsvRejected",
    "DataSummary",
    "ImportReport",
    "Instrument",
    "MarketError",
    "MarketService",
    "NoBarsError",
    "ProgressCallback",
    "RowProblem",
    "Timeframe",
    "AssetHit",
    "BarWatch",
    "FetchReport",
    "OptionChain",
    "OptionChainRow",
    "OptionQuote",
    "OptionType",
    "create_market_service",
]


def create_market_service(
    db: Database, connections: ConnectionService | None = None, *, http_timeout: float = 10.0
) -> MarketService:
    from kash_tui.domains.market.service_impl import SqlMarketService

    return SqlMarketService(db, connections, http_timeout=http_timeout)
