"""``kash runs export ID --format csv|html``: the files hold the run's own numbers, and the HTML
page opens without a network."""

from __future__ import annotations

import csv
from html.parser import HTMLParser
from pathlib import Path

import pytest

from kash_tui.config import Settings
from kash_tui.provider import ServiceProvider
from tests.cli.outcome import as_json, ok, refused


class _Page(HTMLParser):
    """Tables by id (rows of cells: the data-value when there is one, else the text), the
    SVGs' attributes, and every tag with an attribute that could load something."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.svgs: list[dict[str, str]] = []
        self.polylines = 0
        self.loading: list[tuple[str, dict]] = []
        self.style = ""
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._value: str | None = None
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("script", "link", "img", "iframe", "object", "embed") or any(
                k in ("src", "href") for k in a):
            self.loading.append((tag, a))
        if tag == "style":
            self._in_style = True
        if tag == "table":
            self._table = a.get("id", "")
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell, self._value = [], a.get("data-value")
        elif tag == "svg":
            self.svgs.append(a)
        elif tag == "polyline":
            self.polylines += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            text = "".join(self._cell).strip()
            self.tables[self._table][-1].append(self._value if self._value is not None else text)
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data
        if self._cell is not None:
            self._cell.append(data)


def _page(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _offline(page: _Page) -> None:
    assert page.loading == []
    assert "url(" not in page.style and "@import" not in page.style


def test_html_report_holds_the_runs_numbers_and_needs_no_network(
    kash_main, db_url: str, tmp_path: Path,  # noqa: ANN001
) -> None:
    db = ("--db", db_url)
    run = as_json(kash_main("backtest", "--symbol", "DEMOA", "--strategy", "sma_crossover",
                            "--commission", "0.001", "--json", *db))
    out = tmp_path / "report.html"
    assert ok(kash_main("runs", "export", run["run_id"], "--out", out, *db)).stdout == (
        f"Wrote {out}.\n")
    page = _page(out)
    _offline(page)
    metrics = {row[0]: row[1] for row in page.tables["metrics"][1:]}
    m = run["metrics"]
    assert float(metrics["Final equity"]) == m["final_equity"]
    assert float(metrics["Total return"]) == m["total_return_pct"]
    assert float(metrics["Max drawdown"]) == m["max_drawdown_pct"]
    assert float(metrics["Sharpe"]) == m["sharpe"]
    assert int(metrics["Round trips"]) == m["round_trips"] == len(run["round_trips"])
    trips = page.tables["round-trips"][1:]
    assert len(trips) == len(run["round_trips"])
    for row, want in zip(trips, run["round_trips"], strict=True):
        assert row[0] == "DEMOA"
        assert float(row[3]) == want["qty"] and float(row[6]) == want["pnl"]
        assert float(row[4]) == want["entry_price"]
    settings = {row[0]: row[1] for row in page.tables["settings"][1:]}
    assert float(settings["commission"]) == 0.001 and settings["symbol"] == "DEMOA"
    # the curves: inline SVG scaled to the run's own equity and drawdown
    provider = ServiceProvider(Settings(database_url=db_url))
    try:
        equity = provider.trading.get_run(run["run_id"]).equity
    finally:
        provider.close()
    equity_svg, dd_svg = page.svgs
    assert equity_svg["class"] == "equity" and dd_svg["class"] == "drawdown"
    assert float(equity_svg["data-max"]) == float(equity.max())
    assert float(equity_svg["data-min"]) == float(equity.min())
    assert float(dd_svg["data-min"]) == pytest.approx(m["max_drawdown_pct"], abs=1e-9)
    assert page.polylines == 2


def test_csv_export_has_every_fill_and_round_trip_exactly(
    kash_main, sqlite_db_url: str, tmp_path: Path,  # noqa: ANN001
) -> None:
    db = ("--db", sqlite_db_url)
    run = as_json(kash_main("backtest", "--symbol", "DEMOA", "--strategy", "sma_crossover",
                            "--slippage", "0.0005", "--json", *db))
    ok(kash_main("runs", "export", run["run_id"], "--format", "csv", "--out",
                 tmp_path / "a.csv", *db))
    with (tmp_path / "a-fills.csv").open(encoding="utf-8") as f:
        fills = list(csv.DictReader(f))
    with (tmp_path / "a-round-trips.csv").open(encoding="utf-8") as f:
        trips = list(csv.DictReader(f))
    assert [(r["time"], r["side"], float(r["qty"]), float(r["price"]), float(r["commission"]))
            for r in fills] == [(f["time"], f["side"], f["qty"], f["price"], f["commission"])
                                for f in run["fills"]]
    assert [(r["entry_time"], r["exit_time"] or None, float(r["pnl"]), r["open"] == "true")
            for r in trips] == [(t["entry_time"], t["exit_time"], t["pnl"], t["open"])
                                for t in run["round_trips"]]


def test_a_universe_run_exports_its_symbols(kash_main, sqlite_db_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    db = ("--db", sqlite_db_url)
    ok(kash_main("universe", "create", "demo", "DEMOA", "DEMOB", *db))
    run = as_json(kash_main("backtest", "--universe", "demo", "--strategy", "sma_crossover",
                            "--max-positions", "1", "--json", *db))
    ok(kash_main("runs", "export", run["run_id"], "--out", tmp_path, *db))
    page = _page(tmp_path / f"run-{run['run_id']}.html")
    _offline(page)
    symbols = {row[0]: row for row in page.tables["symbols"][1:]}
    assert set(symbols) == {"DEMOA", "DEMOB"}
    for b in run["breakdown"]:
        assert float(symbols[b["symbol"]][4]) == b["pnl"]
    assert [r[0] for r in page.tables["round-trips"][1:]] == [
        t["symbol"] for t in run["round_trips"]]
    ok(kash_main("runs", "export", run["run_id"], "--format", "csv", *db))
    with (tmp_path / f"run-{run['run_id']}-fills.csv").open(encoding="utf-8") as f:
        assert [r["symbol"] for r in csv.DictReader(f)] == [x["symbol"] for x in run["fills"]]


def test_export_bad_input(kash_main, sqlite_db_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    db = ("--db", sqlite_db_url)
    assert "no backtest run #7" in refused(kash_main("runs", "export", "7", *db))
    assert "not a run id" in refused(kash_main("runs", "export", "x7", *db))
    assert "There is no folder" in refused(
        kash_main("runs", "export", "1", "--out", tmp_path / "no" / "r.html", *db))
    assert "invalid choice" in refused(kash_main("runs", "export", "1", "--format", "pdf", *db))
    assert list(tmp_path.glob("*.html")) == []
