"""Copy the snapshot tests' pictures that the user guide shows into docs/screenshots.

    python scripts/refresh_screenshots.py

The guide's screenshots are the snapshot tests' SVGs (tests/tui/__snapshots__), so what the
guide shows is what the tests check. Run this after updating a snapshot (and reading its diff);
tests/test_docs.py fails while a screenshot differs from its snapshot.
"""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOTS = ROOT / "tests" / "tui" / "__snapshots__"

SCREENSHOTS: dict[str, str] = {
    "workspaces-80x24.svg": "test_workspaces_screen/test_snapshot_workspaces[80x24].svg",
    "portfolio-form.svg": "test_workspaces_screen/test_snapshot_portfolio_form.svg",
    "chart-80x24.svg": "test_chart_screen/test_snapshot_80x24.svg",
    "chart-backtest-160x48.svg": "test_chart_screen/test_snapshot_160x48_with_a_backtest.svg",
    "strategies-80x24.svg": "test_strategies_screen/test_snapshot_sma_crossover_chosen[80x24].svg",
    "backtest-results-160x48.svg":
        "test_strategies_screen/test_snapshot_after_backtest[160x48].svg",
    "walkforward-160x48.svg": "test_walkforward_tab/test_snapshot_walk_forward[160x48].svg",
    "orders-80x24.svg": "test_orders_screen/test_snapshot_orders_with_data[80x24].svg",
    "options-80x24.svg": "test_options_screen/test_snapshot_options_80x24.svg",
    "deployments-80x24.svg": "test_deployments_screen/test_snapshot_deployments[80x24].svg",
    "deployments-chart-160x48.svg":
        "test_deployments_screen/test_snapshot_deployments[160x48].svg",
}


def main() -> None:
    for name, snapshot in SCREENSHOTS.items():
        target = ROOT / "docs" / "screenshots" / name
        shutil.copyfile(SNAPSHOTS / snapshot, target)
        print(f"{target.relative_to(ROOT)} <- {snapshot}")


if __name__ == "__main__":
    main()
