"""The account line of the Orders place: cash, equity, buying power and the account's state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from kash_tui.tui.format import money_text

if TYPE_CHECKING:
    from kash_tui.domains.trading import Account


def account_text(account: Account, note: str = "") -> Text:
    """``Cash 99,580.00 · Equity 103,160.00 · Buying power 201,840.00 USD``, then the
    account's state (or ``note``). Each field is whole: the line wraps between fields."""
    fields = [("Cash", money_text(account.cash)), ("Equity", money_text(account.equity)),
              ("Buying power", f"{money_text(account.buying_power)} {account.currency}")]
    text = Text()
    for n, (label, value) in enumerate(fields):
        if n:
            text.append(" · ", style="dim")
        text.append(f"{label}\u00a0", style="dim")
        text.append(value.replace(" ", "\u00a0"), style="bold")
    extra = Text()
    if note:
        extra.append(note, style="dim")
    else:
        if account.status:
            extra.append("Account ", style="dim")
            extra.append(account.status)
        if account.trading_blocked:
            extra.append(" · " if extra else "", style="dim")
            extra.append("TRADING BLOCKED", style="bold red")
    if extra:
        text.append("\n")
        text.append_text(extra)
    return text


class AccountPanel(Static):
    """The account as last read, or what is happening instead (reading, a problem)."""

    DEFAULT_CSS = """
    AccountPanel { height: auto; max-height: 3; padding: 0 1; }
    """

    def show_account(self, account: Account, note: str = "") -> None:
        self.update(account_text(account, note))

    def show_waiting(self, sentence: str) -> None:
        """``Reading the PAPER account on paper…``"""
        self.update(Text(sentence, style="dim"))

    def show_problem(self, sentence: str) -> None:
        """Why there is no account to show (the broker cannot be reached, bad keys...)."""
        self.update(Text(sentence, style="bold red"))

    def forget(self) -> None:
        self.update("")


__all__ = ["AccountPanel", "account_text"]
