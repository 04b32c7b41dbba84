"""The detached runner: ``python -m kash_tui.runner NAME`` (what ``kash deploy start --detach``
and the app start). An entry point beside ``cli/`` and ``tui/``: it builds the provider from the
settings (``KASH_DATABASE_URL`` names the database) and runs the deployment through its service,
one log line per event on stdout (the log file the launcher opened). SIGTERM and SIGINT stop it
cleanly; ``kash deploy stop`` and ``halt`` reach it through the database.
"""

from __future__ import annotations

import os
import signal
import sys
import threading


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m kash_tui.runner DEPLOYMENT_NAME\n")
        return 2
    from kash_tui.config import load_settings
    from kash_tui.errors import is_user_error
    from kash_tui.logs import setup_logging
    from kash_tui.provider import ServiceProvider

    setup_logging()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_a: stop.set())
    signal.signal(signal.SIGINT, lambda *_a: stop.set())
    settings, _warnings = load_settings(None)
    kash = ServiceProvider(settings)
    try:
        kash.prepare(eager=False)
        from kash_tui.domains.deployment import RunOptions, event_line

        tick = os.environ.get("KASH_RUNNER_TICK")
        stream = os.environ.get("KASH_RUNNER_NO_STREAM") != "1"
        options = RunOptions(tick_seconds=float(tick), clock_refresh_seconds=float(tick),
                             stream=stream) if tick else RunOptions(stream=stream)
        print(f"kash runner {os.getpid()}: deployment {args[0]!r}", flush=True)
        d = kash.deployment.run(
            args[0], confirm_live=os.environ.get("KASH_RUNNER_CONFIRM_LIVE"), stop=stop,
            on_event=lambda e: print(event_line(e), flush=True), options=options,
        )
        print(f"deployment {d.name!r} is {d.state.value}", flush=True)
        return 0
    except Exception as exc:  # noqa: BLE001
        if is_user_error(exc):
            print(f"kash runner: {exc}", flush=True)
            return 2
        import traceback

        traceback.print_exc()
        return 1
    finally:
        kash.close()


if __name__ == "__main__":
    raise SystemExit(main())
