"""Importing bars from a CSV file in the app: the form from the Chart place (key i) or the
palette, at a size that crosses the reader's 4 MiB blocks and the progress updates (more than
100,000 rows), all or nothing, then the chart on the imported series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static

from kash_tui.config import Settings
from kash_tui.domains.market import Timeframe
from kash_tui.provider import ServiceProvider
from kash_tui.tui.app import KashApp, make_app
from kash_tui.tui.modals.import_form import ImportCsvForm
from kash_tui.tui.screens.chart import ChartScreen
from kash_tui.tui.widgets import ChartHeader

ROWS = 120_000  # about 6.8 MB: two reading blocks, and well past 100,000 rows


def _write_minutes(path: Path, n: int, *, bad_line: int | None = None) -> None:
    """``n`` New York session minutes (390 a weekday); ``bad_line`` (1-based, the header is
    line 1) gets a high below its low."""
    rng = np.random.default_rng(5)
    close = 50.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, n)))
    open_ = np.r_[50.0, close[:-1]]
    high, low = np.maximum(open_, close) * 1.0004, np.minimum(open_, close) * 0.9996
    days = np.arange(np.datetime64("2015-01-05"), np.datetime64("2030-01-01"))
    days = days[((days.astype(np.int64) - 4) % 7) < 5][: n // 390 + 1]
    minutes = (days[:, None].astype("datetime64[m]") + np.timedelta64(570, "m")
               + np.arange(390).astype("timedelta64[m]")).ravel()[:n]
    stamps = np.datetime_as_string(minutes, unit="s").tolist()
    lines = [
        f"{t},{o:.4f},{h:.4f},{lo:.4f},{c:.4f},100\n"
        for t, o, h, lo, c in zip(stamps, open_.tolist(), high.tolist(), low.tolist(),
                                  close.tolist(), strict=True)
    ]
    if bad_line is not None:
        t, o, h, lo, c, v = lines[bad_line - 2].strip().split(",")
        lines[bad_line - 2] = f"{t},{o},{lo},{h},{c},{v}\n"  # high and low swapped
    with path.open("w") as fh:
        fh.write("Datetime,Open,High,Low,Close,Volume\n")
        fh.writelines(lines)


async def _settle(pilot: Pilot) -> None:
    for _ in range(6):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def _start(pilot: Pilot) -> KashApp:
    app = pilot.app
    for _ in range(200):
        if app.status == "ready":  # type: ignore[attr-defined]
            break
        await pilot.pause(0.05)
    await _settle(pilot)
    return app  # type: ignore[return-value]


async def _fill(pilot: Pilot, form: ImportCsvForm, path: Path) -> None:
    form.query_one("#path", Input).focus()
    await pilot.press(*str(path))
    await pilot.pause()
    timeframe = form.query_one("#timeframe", Select)
    timeframe.value = Timeframe.MIN_1.value
    await pilot.pause()


def _stored(db_url: str) -> dict[str, int]:
    provider = ServiceProvider(Settings(database_url=db_url))
    provider.prepare()
    try:
        return {f"{s.symbol} {s.timeframe.value}": s.count for s in provider.market.list_data()}
    finally:
        provider.close()


@pytest.mark.slow
async def test_import_from_the_chart_stores_every_row_and_charts_them(
    tmp_path: Path, sqlite_db_url: str
) -> None:
    csv = tmp_path / "xyz-minute.csv"
    _write_minutes(csv, ROWS)
    app = make_app(Settings(database_url=sqlite_db_url))
    shown: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await _start(pilot)
        await pilot.press("f2")
        await _settle(pilot)
        assert isinstance(app.screen, ChartScreen)
        await pilot.press("i")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ImportCsvForm)
        await _fill(pilot, form, csv)
        assert form.query_one("#symbol", Input).value == "XYZ"  # from the file's name
        progress = form.query_one("#import-progress", Static)
        original = form._show_progress

        def seen(text: str) -> None:
            shown.append(text)
            original(text)

        form._show_progress = seen  # type: ignore[method-assign]
        await pilot.press("enter")  # in the symbol field: import
        for _ in range(400):
            if app.screen is not form:
                break
            await pilot.pause(0.05)
        await _settle(pilot)
        assert not progress.is_attached or not progress.display
        assert isinstance(app.screen, ChartScreen)
        header = str(app.screen.query_one(ChartHeader).render())
        assert "XYZ 1Min" in header and "last 10,000 bars" in header
        notes = [str(n.message) for n in app._notifications]
        assert any(f"Stored {ROWS:,} 1Min bars for XYZ ({ROWS:,} new)" in n for n in notes)
    assert any(text.startswith("Reading the file…") for text in shown)
    assert any(text.startswith("Storing the bars…") for text in shown)
    assert _stored(sqlite_db_url)["XYZ 1Min"] == ROWS


@pytest.mark.slow
async def test_a_bad_row_stores_nothing_and_the_form_says_which_line(
    tmp_path: Path, sqlite_db_url: str
) -> None:
    csv = tmp_path / "bad.csv"
    _write_minutes(csv, ROWS, bad_line=100_002)
    app = make_app(Settings(database_url=sqlite_db_url))
    async with app.run_test(size=(80, 24)) as pilot:
        await _start(pilot)
        app.action_command_palette()
        await pilot.pause()
        await pilot.press(*"import csv")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ImportCsvForm)
        await _fill(pilot, form, csv)
        symbol = form.query_one("#symbol", Input)
        symbol.value = "BAD"
        symbol.focus()
        await pilot.press("enter")
        for _ in range(400):
            refusal = form.query_one("#form-error", Static)
            if refusal.display:
                break
            await pilot.pause(0.05)
        text = str(refusal.render())
        assert "has 1 bad row(s), so nothing was imported" in text
        assert "line 100002: High" in text and "is below Low" in text
        assert 'set Bad rows to "skip them"' in text and "--skip" not in text
        assert app.screen is form  # the form stays open to fix and retry
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is not form
    assert "BAD 1Min" not in _stored(sqlite_db_url)


async def test_the_form_checks_the_path_as_you_type(tmp_path: Path, sqlite_db_url: str) -> None:
    app = make_app(Settings(database_url=sqlite_db_url))
    async with app.run_test(size=(80, 24)) as pilot:
        await _start(pilot)
        app.push_screen(ImportCsvForm())
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ImportCsvForm)
        await pilot.press(*str(tmp_path / "nope.csv"))
        await pilot.pause()
        assert "There is no file at that path." in str(form.query_one("#path-error").render())
        assert form.query_one("#save").disabled
        folder = tmp_path / "folder.csv"
        folder.mkdir()
        form.query_one("#path", Input).value = str(folder)
        await pilot.pause()
        assert "That is a folder; give a file." in str(form.query_one("#path-error").render())
