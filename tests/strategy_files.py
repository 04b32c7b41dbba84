"""Strategy files as a user writes them, good and broken, for the tests of loading and checking
user strategies; ``write`` puts one into a strategies folder; ``entry_point_package`` is the
folder of a tiny installed package with a ``kash.strategies`` entry point."""

from __future__ import annotations

import textwrap
from pathlib import Path

ENTRY_POINT_PACKAGE = Path(__file__).parent / "fixtures" / "entry_point_pkg"

HEADER = """\
from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from kash_tui.strategy_api import (
    OHLCV, Indicator, ParameterizedStrategy, close_prices, crossing_signals, indicators,
)


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    period: int = Field(default=20, ge=2, le=200, title="Period",
                        description="Closes in the average.")

"""


def strategy(sid: str, body: str, *, name: str = "") -> str:
    """A file with one strategy ``sid`` whose ``generate_signals`` is ``body``."""
    title = name or sid.replace("_", " ").capitalize()
    return HEADER + f"""
class Strategy_{sid}(ParameterizedStrategy):
    id = "{sid}"
    name = "{title}"
    description = "A test strategy."
    default_timeframe = "1Day"
    Params = Params

    def generate_signals(self, bars: OHLCV) -> np.ndarray:
{textwrap.indent(textwrap.dedent(body), " " * 8)}
    def indicators(self, bars: OHLCV) -> list[Indicator]:
        return [Indicator(f"SMA({{self.params.period}})",
                          indicators.sma(close_prices(bars), self.params.period),
                          "price")]
"""


CROSS = """\
close = close_prices(bars)
average = indicators.sma(close, self.params.period)
return crossing_signals(close > average, close <= average, close < average, close >= average)
"""

PEEK = """\
close = close_prices(bars)
later = np.append(close[1:], close[-1:])  # tomorrow's close: look-ahead
signals = np.zeros(len(close), dtype=np.int8)
signals[later > close * 1.01] = 1
signals[later < close * 0.99] = -1
return signals
"""

LOOP = """\
close = close_prices(bars)
signals = np.zeros(len(close), dtype=np.int8)
for i in range(1, len(close)):
    if close[i] > close[i - 1] * 1.02:
        signals[i] = 1
    elif close[i] < close[i - 1] * 0.98:
        signals[i] = -1
return signals
"""

SHORT = """\
close = close_prices(bars)
return np.zeros(len(close) - 1, dtype=np.int8)  # one signal too few
"""

NAN = """\
close = close_prices(bars)
average = indicators.sma(close, self.params.period)
return np.sign(close - average)  # NaN where the average is not defined yet
"""

GOOD = strategy("close_cross", CROSS, name="Close cross")

BROKEN = {
    "syntax_error.py": "def generate_signals(:\n    pass\n",
    "import_error.py": "import numpy as np\nimport kash_no_such_package\n",
    "duplicate_id.py": strategy("sma_crossover", CROSS),
    "wrong_length.py": strategy("wrong_length", SHORT),
    "nan_signals.py": strategy("nan_signals", NAN),
}


def write(folder: Path, file_name: str, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name
    path.write_text(source, encoding="utf-8")
    return path


def strategies_folder(isolated_env: dict[str, str]) -> Path:
    """``<config dir>/strategies`` of the isolated environment."""
    return Path(isolated_env["XDG_CONFIG_HOME"]) / "kash" / "strategies"


def line_of(source: str, text: str) -> int:
    return next(i for i, line in enumerate(source.splitlines(), 1) if text in line)
