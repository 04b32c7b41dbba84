"""Time to first paint: Kash against an empty Textual app. Target: Kash <= 1.5x the empty app.

    python bench/bench_first_paint.py [--runs 9] [--target 1.5]

Each sample is a fresh process on a pseudo-terminal (80x24), so interpreter start-up, imports,
theme loading, compose and the first frame all count. The child exits right after its first
refresh and reports the time since the parent started it. Samples are interleaved; the median
is compared. Everything runs on a demo SQLite database prepared up front, in throwaway
config/data folders. Opening the database (and loading the settings, see below) happens in a
worker after the first paint, by design, so it is not part of the number.

Measured:
  empty   ``textual.app.App().run()``
  kash    the ``kash`` command itself: ``kash_tui.cli.main(["--db", URL])``  <- the verdict
  app     ``make_app(database_url=URL)``: the app alone, settings loaded after the first paint
  app+settings  ``load_settings`` (pydantic) first, then ``make_app(settings)``: what ``kash``
          costs if its ``cmd_app`` loads the settings before starting the app
Exit code 0 on PASS, 1 on FAIL.
"""

from __future__ import annotations

import argparse
import os
import pty
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Every child patches App.run so that its first refresh reports the time and exits.
_PRELUDE = """
import os, time
T0 = float(os.environ["BENCH_T0"])
from textual.app import App
_run = App.run
async def _first_paint(pilot):
    def done():
        os.write(int(os.environ["BENCH_FD"]), f"{time.time() - T0:.6f}\\n".encode())
        pilot.app.exit()
    pilot.app.call_after_refresh(done)
def _patched_run(self, *args, **kwargs):
    kwargs["auto_pilot"] = _first_paint
    return _run(self, *args, **kwargs)
App.run = _patched_run
"""

APPS = {
    "empty": _PRELUDE + "App().run()\n",
    "kash": _PRELUDE + "from kash_tui.cli import main\nmain(['--db', os.environ['BENCH_DB']])\n",
    "app": _PRELUDE
    + "from kash_tui.tui.app import make_app\n"
    "make_app(database_url=os.environ['BENCH_DB']).run()\n",
    "app+settings": _PRELUDE
    + "from kash_tui.config import load_settings\n"
    "settings, warnings = load_settings(os.environ['BENCH_DB'])\n"
    "from kash_tui.tui.app import make_app\n"
    "make_app(settings, warnings=warnings).run()\n",
}


def _sample(code: str, env: dict[str, str]) -> float:
    """Run ``code`` on a pty; return the child's seconds from spawn to first paint."""
    master, slave = pty.openpty()
    read_fd, write_fd = os.pipe()
    child_env = dict(env, BENCH_FD=str(write_fd), TERM="xterm-256color",
                     COLUMNS="80", LINES="24")
    child_env["BENCH_T0"] = repr(time.time())
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=slave, stdout=slave, stderr=slave,
        pass_fds=(write_fd,), env=child_env, cwd=str(ROOT),
    )
    os.close(slave)
    os.close(write_fd)
    screen = bytearray()

    def drain() -> None:  # the terminal: keep reading so the child never blocks on output
        try:
            while chunk := os.read(master, 65536):
                screen.extend(chunk)
        except OSError:
            pass

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        with os.fdopen(read_fd, "rb") as result:
            line = result.readline().decode().strip()
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    if not line:
        tail = bytes(screen[-2000:]).decode(errors="replace")
        raise SystemExit(f"a benchmark child painted nothing; its output ended with:\n{tail}")
    return float(line)


def _prepare_demo_db(env: dict[str, str], url: str) -> None:
    code = (
        "from kash_tui.config import load_settings\nfrom kash_tui.provider import ServiceProvider\n"
        f"s, _ = load_settings({url!r})\np = ServiceProvider(s)\np.prepare()\np.close()\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, cwd=str(ROOT), check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="samples per app (median is used)")
    parser.add_argument("--target", type=float, default=1.5, help="maximum Kash/empty ratio")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="kash-bench-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KASH_", "APCA_"))}
        env.update(
            XDG_CONFIG_HOME=f"{tmp}/config", XDG_DATA_HOME=f"{tmp}/data",
            XDG_CACHE_HOME=f"{tmp}/cache", XDG_STATE_HOME=f"{tmp}/state",
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        )
        env.pop("NO_COLOR", None)
        db_url = f"sqlite:///{tmp}/kash.db"
        env["BENCH_DB"] = db_url
        _prepare_demo_db(env, db_url)

        for code in APPS.values():  # warm the OS file cache and .pyc files once
            _sample(code, env)
        samples: dict[str, list[float]] = {name: [] for name in APPS}
        for _ in range(args.runs):  # interleaved, so drift in machine load hits all alike
            for name, code in APPS.items():
                samples[name].append(_sample(code, env))

    medians = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    print(f"first paint, median of {args.runs} runs on an 80x24 pty:")
    for name, values in samples.items():
        ratio = medians[name] / medians["empty"]
        print(f"  {name:<13} {medians[name]:7.1f} ms  (min {min(values) * 1000:6.1f})  "
              f"{ratio:5.2f}x")
    ratio = medians["kash"] / medians["empty"]
    verdict = "PASS" if ratio <= args.target else "FAIL"
    print(f"kash / empty = {ratio:.2f}x, target <= {args.target:.2f}x: {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
