"""What the Orders place shows instead of an account: why, and how to get a paper portfolio."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


def how_to_trade(
    headline: str, *, has_trading_portfolio: bool, workspace: str | None, portfolio_key: str,
) -> Text:
    """The headline, then either which key chooses a paper or live portfolio, or the commands
    that create one in ``workspace``."""
    text = Text()
    text.append(headline + "\n\n", style="bold")
    if has_trading_portfolio:
        text.append(f"Orders go through a paper or live portfolio: press {portfolio_key} to "
                    "choose one.")
        return text
    ws = workspace or "Demo"
    ws_arg = f"'{ws}'" if " " in ws else ws
    text.append("No paper or live portfolio yet. ", style="bold")
    text.append("Kash trades through an Alpaca account. Add a connection (it stores where "
                "the keys are, never the keys) and a portfolio on it:\n\n")
    text.append("  kash connection add paper --broker alpaca --paper\n", style="bold")
    text.append(f"  kash portfolio create Paper --workspace {ws_arg} --mode paper "
                "--connection paper\n\n", style="bold")
    text.append("The keys are read from $APCA_API_KEY_ID and $APCA_API_SECRET_KEY. Or do "
                "both under Workspaces (1): n in Broker connections, then n in Portfolios.")
    return text


class EmptyNotice(Static):
    """Hidden while there is an account to show."""

    DEFAULT_CSS = """
    EmptyNotice { height: 1fr; padding: 1 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__("", id=id, markup=False)  # names and broker replies, never markup
        self.display = False

    def show(self, message: str | Text) -> bool:
        """Show ``message``; an empty one hides the notice. True when something is shown."""
        shown = bool(message.plain if isinstance(message, Text) else message)
        self.update(message)
        self.display = shown
        return shown


__all__ = ["EmptyNotice", "how_to_trade"]
