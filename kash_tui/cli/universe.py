"""``kash universe ...``: named lists of symbols in a workspace (universes)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from kash_tui.cli.common import EXIT_OK, UserError, build_provider, print_json, print_table, when

_SEPARATORS = re.compile(r"[\s,;]+")


def symbols_from_file(path: str) -> list[str]:
    """Symbols of a text or CSV file: separated by line breaks, commas, semicolons or spaces;
    ``#`` starts a comment; a first field ``symbol`` (a CSV header) is skipped."""
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"There is no file {path!r}; give the path of a file of symbols.") from None
    except IsADirectoryError:
        raise UserError(f"{path!r} is a folder; give the path of a file of symbols.") from None
    except UnicodeDecodeError:
        raise UserError(
            f"{path!r} is not a UTF-8 text file; give a text or CSV file of symbols."
        ) from None
    except OSError as exc:
        raise UserError(f"Cannot read {path!r} ({exc.strerror}); check the path.") from None
    found: list[str] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        found.extend(t.strip("\"'") for t in _SEPARATORS.split(line) if t.strip("\"'"))
    if found and found[0].lower() in ("symbol", "symbols", "ticker"):
        found = found[1:]
    if not found:
        raise UserError(f"{path!r} lists no symbols; write one per line, e.g. AAPL.")
    return found


def cmd_universe_create(args: argparse.Namespace) -> int:
    symbols = list(args.symbols)
    if args.from_file:
        symbols += symbols_from_file(args.from_file)
    if not symbols:
        raise UserError(
            "A universe needs symbols; list them (kash universe create NAME AAPL MSFT) or pass "
            "--from-file PATH."
        )
    u = build_provider(args).workspace.create_universe(args.name, symbols, args.workspace)
    shown = ", ".join(u.symbols[:8]) + (f", ... ({len(u.symbols)} in all)"
                                        if len(u.symbols) > 8 else "")
    print(f"Created universe {u.name!r} in {u.workspace_name!r} with {len(u.symbols)} "
          f"symbol(s): {shown}.")
    return EXIT_OK


def cmd_universe_list(args: argparse.Namespace) -> int:
    items = build_provider(args, writes=False).workspace.list_universes(args.workspace)
    if args.json:
        print_json([
            {"name": u.name, "workspace": u.workspace_name, "symbols": list(u.symbols),
             "created_at": u.created_at}
            for u in items
        ])
        return EXIT_OK
    print_table(
        ["WORKSPACE", "NAME", "SYMBOLS", "FIRST SYMBOLS", "CREATED"],
        [(u.workspace_name, u.name, len(u.symbols),
          " ".join(u.symbols[:5]) + (" ..." if len(u.symbols) > 5 else ""), when(u.created_at))
         for u in items],
        "No universes; create one with `kash universe create NAME AAPL MSFT ...`.",
    )
    return EXIT_OK


def cmd_universe_show(args: argparse.Namespace) -> int:
    u = build_provider(args, writes=False).workspace.get_universe(args.name, args.workspace)
    if args.json:
        print_json({"name": u.name, "workspace": u.workspace_name, "symbols": list(u.symbols),
                    "created_at": u.created_at})
        return EXIT_OK
    print(f"Universe {u.name!r} in {u.workspace_name!r}: {len(u.symbols)} symbol(s), "
          f"created {when(u.created_at)}")
    for k in range(0, len(u.symbols), 10):
        print("  " + " ".join(u.symbols[k:k + 10]))
    return EXIT_OK


def cmd_universe_delete(args: argparse.Namespace) -> int:
    provider = build_provider(args)
    u = provider.workspace.get_universe(args.name, args.workspace)
    provider.workspace.delete_universe(u.name, u.workspace_name)
    print(f"Deleted universe {u.name!r} from {u.workspace_name!r}.")
    return EXIT_OK


# -- universe backtests (``kash backtest --universe``, ``kash runs show`` of one) --------------
