"""The questions Kash asks, one modal screen per module, re-exported here.

==================  ===========================================================
``confirm``         ConfirmModal: asks before something is deleted
``form``            FormModal: the base of the forms, and the field rules
``name_form``       NameForm: a workspace's name
``portfolio_form``  PortfolioForm: create or edit a portfolio
``connection_form`` ConnectionForm: add an Alpaca connection
``keymap_screen``   KeymapScreen: the action ids for the ``[keymap]`` table
``help_screen``     HelpScreen: the keys of the place and those of everywhere
``order_ticket``    OrderTicket (and TicketDefaults): enter, preview and send an order
``trade_confirm``   TradeConfirm: yes/no about an order or a position
``symbol_search``   SymbolSearch: which symbol to chart
``timeframe_picker`` TimeframePicker: which timeframe to chart
``sweep_form``      SweepForm: a parameter sweep (the Strategies place)
``check_report``    CheckReportScreen: the checks of a strategy (the Strategies place)
``import_form``     ImportCsvForm: import bars from a CSV file
``deploy_form``     DeployForm: start a deployment (the Deployments place)
``halt_confirm``    HaltModal: the kill switch's question, halt or halt and flatten
==================  ===========================================================

The re-exports are lazy (PEP 562), so a place that needs one modal imports only that one
before the first paint. :func:`import_all` imports every modal (the app does, after the first
paint, so the keymap check knows every binding id).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kash_tui.tui.modals.check_report import CheckReportScreen
    from kash_tui.tui.modals.confirm import ConfirmModal
    from kash_tui.tui.modals.deploy_form import DeployDefaults, DeployForm
    from kash_tui.tui.modals.connection_form import ConnectionForm
    from kash_tui.tui.modals.form import FormModal
    from kash_tui.tui.modals.halt_confirm import HaltChoice, HaltModal
    from kash_tui.tui.modals.help_screen import HelpScreen
    from kash_tui.tui.modals.import_form import ImportCsvForm
    from kash_tui.tui.modals.keymap_screen import KeymapScreen
    from kash_tui.tui.modals.name_form import NameForm
    from kash_tui.tui.modals.order_ticket import OrderTicket, TicketDefaults
    from kash_tui.tui.modals.portfolio_form import PortfolioForm
    from kash_tui.tui.modals.sweep_form import SweepForm
    from kash_tui.tui.modals.symbol_search import SymbolSearch
    from kash_tui.tui.modals.timeframe_picker import TimeframePicker
    from kash_tui.tui.modals.trade_confirm import TradeConfirm

_HOMES = {
    "CheckReportScreen": "check_report",
    "ConfirmModal": "confirm",
    "ConnectionForm": "connection_form",
    "DeployDefaults": "deploy_form",
    "DeployForm": "deploy_form",
    "FormModal": "form",
    "HaltChoice": "halt_confirm",
    "HaltModal": "halt_confirm",
    "HelpScreen": "help_screen",
    "ImportCsvForm": "import_form",
    "KeymapScreen": "keymap_screen",
    "NameForm": "name_form",
    "OrderTicket": "order_ticket",
    "PortfolioForm": "portfolio_form",
    "SweepForm": "sweep_form",
    "SymbolSearch": "symbol_search",
    "TicketDefaults": "order_ticket",
    "TimeframePicker": "timeframe_picker",
    "TradeConfirm": "trade_confirm",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def import_all() -> None:
    """Import every modal module (their bindings then count as known to the keymap)."""
    for home in sorted(set(_HOMES.values())):
        import_module(f"{__name__}.{home}")
