"""Mapping between workspace rows and public types; the input rules."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation

from kash_tui.domains.workspace.entities import PortfolioRow, UniverseRow, WorkspaceRow
from kash_tui.domains.workspace.service import (
    NAME_MAX_LENGTH,
    Portfolio,
    UNIVERSE_MAX_SYMBOLS,
    PortfolioMode,
    Universe,
    Workspace,
    WorkspaceError,
)
from kash_tui.names import unprintable


def to_workspace(row: WorkspaceRow, portfolio_count: int) -> Workspace:
    return Workspace(
        id=row.id, name=row.name, created_at=row.created_at, portfolio_count=portfolio_count
    )


def to_portfolio(row: PortfolioRow, workspace_name: str, connection_name: str | None) -> Portfolio:
    return Portfolio(
        id=row.id,
        workspace_id=row.workspace_id,
        workspace_name=workspace_name,
        name=row.name,
        mode=PortfolioMode(row.mode),
        position_size_pct=_tidy(Decimal(row.position_size_pct)),
        connection_id=row.connection_id,
        connection_name=connection_name,
        created_at=row.created_at,
    )


def _tidy(value: Decimal) -> Decimal:
    """100.0000 -> 100, 12.5000 -> 12.5 (never 1E+2)."""
    return value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()


def clean_name(kind: str, name: str) -> str:
    text = (name or "").strip()
    if not text:
        raise WorkspaceError(f"A {kind} needs a name; give a non-empty one.")
    bad = unprintable(text)
    if bad:
        raise WorkspaceError(
            f"A {kind} name cannot contain {bad}; use letters, digits, spaces and punctuation."
        )
    if len(text) > NAME_MAX_LENGTH:
        raise WorkspaceError(
            f"A {kind} name must be at most {NAME_MAX_LENGTH} characters (this one has "
            f"{len(text)}); choose a shorter one."
        )
    return text


def clean_position_size(value: Decimal | float | str) -> Decimal:
    try:
        pct = Decimal(str(value).strip())
    except InvalidOperation:
        raise WorkspaceError(
            f"Position size {value!r} is not a number; give a percentage such as 25."
        ) from None
    if not pct.is_finite() or pct > 100 or pct.quantize(Decimal("0.0001")) <= 0:
        raise WorkspaceError(
            f"Position size must be more than 0 and at most 100 percent (got {value}); "
            "give a percentage such as 25."
        )
    return pct.quantize(Decimal("0.0001"))


# The market domain's symbol rule (AAPL, BRK.B, BTC/USD, OCC option symbols).
_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9.\-/]{0,63}$")


def to_universe(row: UniverseRow, workspace_name: str, symbols: Sequence[str]) -> Universe:
    created: datetime = row.created_at
    return Universe(
        id=row.id, workspace_id=row.workspace_id, workspace_name=workspace_name, name=row.name,
        symbols=tuple(symbols), created_at=created,
    )


def clean_symbols(symbols: Sequence[str]) -> tuple[str, ...]:
    """Upper-cased, each once (at its first place); one sentence for the first bad one."""
    seen: dict[str, None] = {}
    for raw in symbols:
        text = (raw or "").strip().upper()
        if not text:
            continue
        if not _SYMBOL.match(text):
            raise WorkspaceError(
                f"{raw.strip()!r} is not a valid symbol; use letters, digits, '.', '-' or '/' "
                "(e.g. AAPL, BRK.B, BTC/USD)."
            )
        seen.setdefault(text, None)
    if not seen:
        raise WorkspaceError("A universe needs at least one symbol; list them, e.g. AAPL MSFT.")
    if len(seen) > UNIVERSE_MAX_SYMBOLS:
        raise WorkspaceError(
            f"A universe may hold at most {UNIVERSE_MAX_SYMBOLS:,} symbols (this one has "
            f"{len(seen):,}); split it into several."
        )
    return tuple(seen)
