"""One list of the errors a user can cause and fix, and one crash-report writer, shared by the
``kash`` command and the app.

An error whose class (or a base class) is listed in :data:`USER_ERROR_ROOTS` carries a sentence
written for the user: the CLI prints it and exits 2, the app shows it. Anything else is a bug:
:func:`write_crash_report` puts its traceback (secrets redacted) in the log file.

The roots are listed by name (``module.Class``, the module that defines the class) and matched
against the error's class hierarchy, so checking an error imports nothing: the app can use it
before its first paint without pulling in a domain.
"""

from __future__ import annotations

from pathlib import Path

USER_ERROR_ROOTS: frozenset[str] = frozenset(
    {
        "kash_tui.cli.common.UserError",
        "kash_tui.config.ConfigError",
        "kash_tui.db.DatabaseError",
        "kash_tui.tui.app.ServicesNotReady",
        "kash_tui.domains.workspace.service.WorkspaceError",
        "kash_tui.domains.connection.service.BrokerConnectionError",
        "kash_tui.domains.market.service.MarketError",
        "kash_tui.domains.strategy.service.StrategyError",
        "kash_tui.domains.trading.service.TradingError",
        "kash_tui.domains.trading.service.BacktestError",
        "kash_tui.domains.deployment.service.DeploymentError",
    }
)


def is_user_error(error: BaseException) -> bool:
    """True when ``error`` is one of the listed user errors (or derives from one)."""
    return any(
        f"{cls.__module__}.{cls.__qualname__}" in USER_ERROR_ROOTS for cls in type(error).__mro__
    )


def user_sentence(error: BaseException) -> str | None:
    """The error's own message when it is one written for the user, else None."""
    return str(error) if is_user_error(error) else None


def write_crash_report(error: BaseException, context: str) -> Path | None:
    """Append ``error``'s traceback (secrets redacted) to the log file; its path, or None when
    the log file cannot be written. ``context`` says where it happened (``kash backtest``)."""
    import traceback
    from datetime import datetime

    from kash_tui.logs import log_file, redact

    path = log_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"--- {datetime.now().isoformat()} {context}\n")
            fh.write(redact("".join(traceback.format_exception(error))))
    except OSError:
        return None
    return path


def crash_sentence(error: BaseException, path: Path | None, *, start: str) -> str:
    """``start (TypeName); details are in PATH. Please report it.``"""
    where = f"; details are in {path}" if path is not None else ""
    return f"{start} ({type(error).__name__}){where}. Please report it."
