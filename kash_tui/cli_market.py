"""CLI commands of the market, strategy and trading domains: data, strategies, backtest."""

from __future__ import annotations


def register(sub, command, group) -> None:  # noqa: ANN001
    return None


def user_error_types() -> tuple[type[BaseException], ...]:
    return ()
