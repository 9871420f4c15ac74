"""The command line every benchmark shares: its config, --output_dir and --quick."""

from typing import Callable

import ml_collections

from jinvnet.train import config_cli


def benchmark_main(
    doc: str,
    configs_dir: str,
    run: Callable[[ml_collections.ConfigDict, str | None], list[dict]],
    table: Callable[[list[dict]], str],
    *,
    output_dir_required: bool = True,
) -> Callable[[list[str] | None], list[dict]]:
    """A `main(argv)` that reads the config, runs `run(config, output_dir)` and
    prints `table(rows)`.

    The command line: `--output_dir` (where results.json and figures go),
    `--quick` (the same as `--config=quick`), then `--config=NAME` (a file of
    `configs_dir`) and `--config.<field>=<value>` overrides (`config_cli`).
    """

    def main(argv: list[str] | None = None) -> list[dict]:
        parser = config_cli.experiment_parser(doc, configs_dir)
        parser.add_argument(
            "--output_dir",
            required=output_dir_required,
            default=None,
            help="where results.json (and any figures) go",
        )
        parser.add_argument(
            "--quick", action="store_true", help="same as --config=quick"
        )
        args, config = config_cli.parse_experiment_args(
            parser, argv, configs_dir=configs_dir
        )
        rows = run(config, args.output_dir)
        print(table(rows))
        return rows

    return main
