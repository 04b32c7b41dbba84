"""The ``kash`` command: thin. Parses arguments, builds settings and the provider, calls services.

Layout (one module per command group, each depending only on :mod:`kash_tui.cli.common`):

- ``common``     the user error, output helpers, provider building, shared options
- ``arguments``  every subcommand registered in one place (``build_parser``)
- ``app``, ``db``, ``workspace``, ``connection``, ``data``, ``options``, ``backtest``,
  ``strategies``, ``trading``    the commands; each imports its domain lazily inside the
  command (``strategies`` itself is imported only when one of its commands runs)

Every user error ends in one sentence on stderr and exit code 2; listing commands take ``--json``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from kash_tui.cli.app import cmd_app
    from kash_tui.cli.arguments import build_parser
    from kash_tui.cli.common import EXIT_OK, EXIT_USER_ERROR

    args = build_parser().parse_args(argv)
    if args.func is not cmd_app:  # the app sets up its own logging after the first paint
        from kash_tui.logs import setup_logging

        setup_logging()
    try:
        return int(args.func(args) or EXIT_OK)
    except KeyboardInterrupt:
        sys.stderr.write("kash: interrupted; nothing was saved half-way.\n")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001
        from kash_tui.errors import crash_sentence, is_user_error, write_crash_report

        if is_user_error(exc):
            sys.stderr.write(f"kash: {exc}\n")
            return EXIT_USER_ERROR
        words = argv if argv is not None else sys.argv[1:]
        path = write_crash_report(exc, f"kash {' '.join(list(words)[:1])}")
        sys.stderr.write(f"kash: {crash_sentence(exc, path, start='unexpected error')}\n")
        return 1
    finally:
        from kash_tui.cli.common import close_providers

        close_providers()


if __name__ == "__main__":
    raise SystemExit(main())
