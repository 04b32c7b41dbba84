"""The Deployments place's widgets, one per module: the table of deployments, the journal, the
parity panel. They receive value objects from the screen (the deployment domain's public
types) and never call a service."""

from kash_tui.tui.widgets.deployments.deployments_table import (
    COLUMNS,
    DeploymentsTable,
    choose_columns,
    deployment_cells,
)
from kash_tui.tui.widgets.deployments.journal_view import (
    JournalView,
    journal_header,
    journal_line,
)
from kash_tui.tui.widgets.deployments.parity_panel import ParityPanel, parity_lines

__all__ = [
    "COLUMNS",
    "DeploymentsTable",
    "JournalView",
    "ParityPanel",
    "choose_columns",
    "deployment_cells",
    "journal_header",
    "journal_line",
    "parity_lines",
]
