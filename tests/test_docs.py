"""The docs stay true: every screenshot the user guide shows is the picture its snapshot test
checks today (refresh them with ``python scripts/refresh_screenshots.py``), and every picture
the guide links exists."""

from __future__ import annotations

import re
from pathlib import Path

from scripts.refresh_screenshots import ROOT, SCREENSHOTS, SNAPSHOTS


def test_every_screenshot_is_its_snapshot() -> None:
    stale = [
        name for name, snapshot in SCREENSHOTS.items()
        if (ROOT / "docs" / "screenshots" / name).read_bytes() != (SNAPSHOTS / snapshot).read_bytes()
    ]
    assert not stale, f"run python scripts/refresh_screenshots.py: {stale} differ from the tests"


def test_the_guide_links_only_pictures_that_exist() -> None:
    guide = (ROOT / "docs" / "user-guide.md").read_text(encoding="utf-8")
    linked = re.findall(r"\]\((screenshots/[^)]+)\)", guide)
    assert linked
    assert all((ROOT / "docs" / path).exists() for path in linked)
    assert {Path(p).name for p in linked} <= set(SCREENSHOTS)
