"""The command line shared by the compile-time scripts: compile_cache, compile_parts."""

import argparse
import json

MODELS = ("glow", "cinc", "emerging", "cinc_quad")


def parser(doc: str, *, steps: int) -> argparse.ArgumentParser:
    """--models (default: all four presets), --rounds, --steps, --config, --output."""
    result = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    result.add_argument("--models", action="append", help="default: all four")
    result.add_argument("--rounds", type=int, default=2)
    result.add_argument("--steps", type=int, default=steps, help="timed steps each")
    result.add_argument("--config", default="default", help="train_throughput config")
    result.add_argument("--output", help="a JSON file for the results")
    return result


def parse(parser: argparse.ArgumentParser, argv: list[str] | None):
    """The parsed arguments, `models` filled in with all four if none was named."""
    args = parser.parse_args(argv)
    args.models = args.models or list(MODELS)
    return args


def report(table: str, result: dict, output: str | None) -> dict:
    """Prints the table, writes `result` to `output` as JSON (if given), returns it."""
    print(table)
    if output:
        with open(output, "w") as f:
            json.dump(result, f, indent=1)
    return result
