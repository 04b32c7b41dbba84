"""CLI commands of strategies: ``kash strategies`` (list, with the ones that failed to load),
``kash strategies new NAME`` (a template that runs as written) and ``kash strategies check ID``.

``kash strategies`` needs no database: it imports the strategy domain only. A strategy file is
imported only by these commands and by those that run strategies (backtest, the app).
"""

from __future__ import annotations

import argparse
import json
import re
from typing import TYPE_CHECKING, Any

from kash_tui.cli.common import EXIT_OK, UserError, build_provider, print_json

if TYPE_CHECKING:
    from kash_tui.domains.strategy import CheckReport, StrategyService

EXIT_CHECK_FAILED = 1
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


def _service(args: argparse.Namespace) -> StrategyService:
    service = build_provider(args, database=False).strategy
    if getattr(args, "reload", False):
        service.reload()  # a new process imports afresh anyway: this re-reads the folders again
    return service


# -- kash strategies -------------------------------------------------------------------------


def cmd_strategies(args: argparse.Namespace) -> int:
    service = _service(args)
    infos, failures = service.list(), service.failures()
    if args.json:
        print_json(
            [
                {"id": i.id, "name": i.name, "description": i.description,
                 "default_timeframe": i.default_timeframe, "params_schema": i.params_schema,
                 "state": "loaded", "source": i.source, "file": i.file}
                for i in infos
            ]
            + [
                {"id": f.name, "state": "failed", "source": f.source, "reason": f.reason,
                 "file": f.file, "line": f.line}
                for f in failures
            ]
        )
        return EXIT_OK
    for i in infos:
        props = i.params_schema.get("properties", {})
        params = ", ".join(f"{k}={v.get('default')}" for k, v in props.items())
        origin = "" if i.source == "built-in" else f", {i.source}"
        print(f"{i.id}  ({i.name}, {i.default_timeframe}{origin})\n  {i.description}\n"
              f"  params: {params}" + (f"\n  file: {i.file}" if i.file else ""))
    for f in failures:
        print(f"{f.name}  (failed, {f.source})\n  {f.reason}\n  at: {f.where}")
    if failures:
        noun = "strategy" if len(failures) == 1 else "strategies"
        print(f"\n{len(failures)} {noun} failed to load; fix the file and run "
              "`kash strategies --reload`.")
    return EXIT_OK


# -- kash strategies new ---------------------------------------------------------------------


def cmd_strategies_new(args: argparse.Namespace) -> int:
    from kash_tui.config import strategies_dir

    name = args.name
    if not NAME_PATTERN.match(name):
        raise UserError(
            f"{name!r} is not a usable strategy name; use lower-case letters, digits and _ "
            "starting with a letter (at most 48), e.g. 'my_breakout'."
        )
    folder = strategies_dir()
    path = folder / f"{name}.py"
    if path.exists():
        raise UserError(f"{path} already exists; choose another name or edit that file.")
    service = build_provider(args, database=False).strategy
    if any(i.id == name for i in service.list()):
        raise UserError(f"A strategy with id '{name}' already exists; choose another name.")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as fh:
            fh.write(strategy_template(name))
    except FileExistsError:
        raise UserError(f"{path} already exists; choose another name or edit that file.") from None
    print(f"Wrote {path}.\nEdit it, then check it with `kash strategies check {name}` and "
          f"backtest it with `kash backtest --strategy {name} --symbol DEMOA`.")
    return EXIT_OK


def strategy_template(name: str) -> str:
    """A strategy file that runs as written (``templates/strategy.py.txt``): the close crossing
    its moving average."""
    from pathlib import Path
    from string import Template

    text = (Path(__file__).parent / "templates" / "strategy.py.txt").read_text(encoding="utf-8")
    cls = "".join(part.capitalize() for part in name.split("_") if part) or "MyStrategy"
    title = name.replace("_", " ").capitalize()
    return Template(text).substitute(name=name, cls=cls, title=title)


# -- kash strategies check -------------------------------------------------------------------


def _params(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"--params is not valid JSON ({exc.msg} at position {exc.pos}); give an object like "
            "'{\"period\": 20}'."
        ) from None
    if not isinstance(value, dict):
        raise UserError("--params must be a JSON object like '{\"period\": 20}'.")
    return value


def cmd_strategies_check(args: argparse.Namespace) -> int:
    params = _params(args.params)
    if args.symbol is None:
        if args.timeframe is not None:
            raise UserError("--timeframe needs --symbol (the stored bars to check on).")
        service = _service(args)
        service.get(args.strategy_id)  # an unknown id: refused before any work
        report = service.check(args.strategy_id, params)
    else:
        from kash_tui.domains.market import Timeframe

        provider = build_provider(args, writes=False)
        service = provider.strategy
        if getattr(args, "reload", False):
            service.reload()
        strategy = service.get(args.strategy_id)
        timeframe = Timeframe.parse(args.timeframe or strategy.default_timeframe)
        bars = provider.market.load_bars(args.symbol, timeframe)
        first, last = bars.first, bars.last
        span = f", {first:%Y-%m-%d} to {last:%Y-%m-%d}" if first and last else ""
        data = f"{args.symbol} {timeframe.value}, {len(bars):,} stored bars{span}"
        report = service.check(args.strategy_id, params, bars=bars, data=data)
    if args.json:
        print_json(report_json(report))
    else:
        print_report(report)
    return EXIT_OK if report.passed else EXIT_CHECK_FAILED


def report_json(report: CheckReport) -> dict[str, Any]:
    return {
        "strategy": report.strategy_id, "params": report.params, "data": report.data,
        "synthetic": report.synthetic, "bars": report.bar_count, "passed": report.passed,
        "checks": [{"name": r.name, "verdict": r.verdict.value, "summary": r.summary,
                    "details": list(r.details)} for r in report.results],
    }


def print_report(report: CheckReport) -> None:
    print(f"Checking {report.strategy_id} {json.dumps(report.params, sort_keys=True)}")
    print(f"on {report.data}")
    width = max(len(r.name) for r in report.results)
    for r in report.results:
        print(f"  {r.verdict.value.upper():4}  {r.name:{width}}  {r.summary}")
        for detail in r.details:
            print(f"  {'':4}  {'':{width}}  {detail}")
    failed = [r.name for r in report.results if r.verdict.value == "fail"]
    warned = [r.name for r in report.results if r.verdict.value == "warn"]
    if failed:
        print(f"Verdict: FAILED ({', '.join(failed)}).")
    elif warned:
        print(f"Verdict: passed, with {len(warned)} warning{'s' if len(warned) > 1 else ''} "
              f"({', '.join(warned)}).")
    else:
        print("Verdict: passed.")
