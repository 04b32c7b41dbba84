"""ImportCsvForm: import bars from a CSV file (Datetime, Open, High, Low, Close, Volume).

The same all-or-nothing import as ``kash data import``: a file with bad rows stores nothing and
the form shows the first of them with their line numbers (or, with "Skip bad rows", stores the
good ones and says how many were skipped). Progress shows under the fields while a large file is
read and stored; the form cannot be closed half-way.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.widgets import Input, Select, Static

from kash_tui.domains.market.service import AssetClass, ImportReport, Timeframe
from kash_tui.tui.modals.form import FormModal, ServiceCall

if TYPE_CHECKING:
    from kash_tui.provider import ServiceProviderProtocol

_PROGRESS_EVERY_S = 0.1
"""At most this often the progress line is redrawn from the import's thread."""


def _default_symbol(path_text: str) -> str:
    """``~/data/aapl-minute.csv`` -> ``AAPL``: the file's name up to its first ``-``/``_``."""
    stem = Path(path_text.strip()).stem
    for sep in ("-", "_", " ", "."):
        stem = stem.split(sep)[0]
    return stem.upper()


class ImportCsvForm(FormModal[ImportReport]):
    """Which file, under which symbol, in which timeframe and time zone."""

    SAVE_LABEL = "Import"

    def __init__(self, *, symbol: str = "", timeframe: str = "1Day") -> None:
        super().__init__("Import bars from a CSV file")
        self.initial_symbol = symbol
        self.initial_timeframe = timeframe if timeframe in set(Timeframe) else "1Day"
        self._auto_symbol = ""
        """The symbol last filled in from the file's name (replaced while the user keeps it)."""
        self._last_shown = 0.0
        self._phase, self._phase_total = -1, -1
        self._lock = threading.Lock()

    def compose_fields(self) -> ComposeResult:
        yield from self.field(
            "File", Input(placeholder="path of a .csv file", id="path", compact=True),
            note="Columns: Datetime, Open, High, Low, Close, Volume (a header row first).",
        )
        yield from self.field(
            "Symbol", Input(self.initial_symbol, placeholder="e.g. AAPL", id="symbol",
                            compact=True),
        )
        yield from self.field(
            "Timeframe",
            Select([(t.value, t.value) for t in Timeframe], value=self.initial_timeframe,
                   allow_blank=False, id="timeframe", compact=True),
        )
        yield from self.field(
            "Asset class",
            Select([(a.value, a.value) for a in AssetClass], value=AssetClass.US_EQUITY.value,
                   allow_blank=False, id="asset_class", compact=True),
        )
        yield from self.field(
            "Time zone", Input(placeholder="America/New_York", id="tz", compact=True),
            note="Of the file's times when they carry no offset.",
        )
        yield from self.field(
            "Bad rows",
            Select([("refuse the file", False), ("skip them", True)], value=False,
                   allow_blank=False, id="skip", compact=True),
        )
        progress = Static("", id="import-progress", classes="field-note", markup=False)
        progress.display = False
        yield progress

    def fields_changed(self, widget_id: str | None) -> None:
        if widget_id == "path":
            symbol = self.query_one("#symbol", Input)
            if symbol.value.strip() in ("", self._auto_symbol):
                self._auto_symbol = _default_symbol(self.text("path"))
                symbol.value = self._auto_symbol
        if widget_id in (None, "asset_class"):
            default = AssetClass(self.choice("asset_class")).default_tz
            self.query_one("#tz", Input).placeholder = default

    def problems(self) -> dict[str, str]:
        found: dict[str, str] = {}
        path_text = self.text("path").strip()
        if not path_text:
            found["path"] = "Give the path of a CSV file."
        else:
            path = Path(path_text).expanduser()
            if not path.exists():
                found["path"] = "There is no file at that path."
            elif path.is_dir():
                found["path"] = "That is a folder; give a file."
        if not self.text("symbol").strip():
            found["symbol"] = "Give the symbol the bars are for."
        return found

    def _progress(self, done: int, total: int) -> None:
        """From the import's thread (bytes read, then bars stored, each phase with its own
        total): redraw the progress line at most every 0.1 s."""
        now = time.monotonic()
        with self._lock:
            if total != self._phase_total:
                self._phase, self._phase_total = self._phase + 1, total
            elif now - self._last_shown < _PROGRESS_EVERY_S and done < total:
                return
            self._last_shown = now
            phase = self._phase
        share = done / total if total else 1.0
        if phase == 0:
            text = f"Reading the file… {share:.0%} ({done / 1e6:,.1f} of {total / 1e6:,.1f} MB)"
        else:
            text = f"Storing the bars… {share:.0%} ({done:,} of {total:,})"
        try:
            self.app.call_from_thread(self._show_progress, text)
        except RuntimeError:  # the app is closing
            pass

    def _show_progress(self, text: str) -> None:
        line = self.query_one("#import-progress", Static)
        line.update(text)
        line.display = True

    def _refused(self, sentence: str) -> None:
        self.query_one("#import-progress", Static).display = False
        # the market service words its advice for the CLI; here the switch is a field
        sentence = sentence.replace("or pass --skip-bad-rows", 'or set Bad rows to "skip them"')
        super()._refused(sentence)

    def action_cancel(self) -> None:
        if self._busy:
            self.app.notify("The import finishes first: nothing is stored half-way.",
                            timeout=4)
            return
        super().action_cancel()

    def service_call(self) -> ServiceCall:
        path = Path(self.text("path").strip()).expanduser()
        symbol = self.text("symbol").strip()
        timeframe = Timeframe(self.choice("timeframe"))
        asset_class = AssetClass(self.choice("asset_class"))
        tz = self.text("tz").strip() or None
        skip = bool(self.choice("skip"))
        progress = self._progress

        def run(provider: ServiceProviderProtocol) -> ImportReport:
            return provider.market.import_csv(
                path, symbol, timeframe=timeframe, tz=tz, asset_class=asset_class,
                skip_bad_rows=skip, progress=progress,
            )

        return run


def import_summary(report: ImportReport) -> str:
    """One sentence for the notification after an import."""
    span = ""
    if report.first is not None and report.last is not None:
        span = f", {report.first:%Y-%m-%d} to {report.last:%Y-%m-%d}"
    skipped = f"; skipped {len(report.skipped)} bad row(s)" if report.skipped else ""
    return (
        f"Stored {report.stored:,} {report.timeframe.value} bars for {report.symbol} "
        f"({report.new:,} new){span}{skipped}."
    )


__all__ = ["ImportCsvForm", "import_summary"]
