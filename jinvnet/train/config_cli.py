"""`--config=NAME` and `--config.<field>=<value>` through `ml_collections.config_flags`.

The training CLI and the experiments read their config with `parse_config` (the
experiments name files of their own configs/ folder):

    --config=mnist5k_cinc               a named config (`configs.CONFIGS`)
    --config=my_config.py[:arg]         any config_flags file with get_config([arg])
    --config.train.num_steps=200        an override of an existing field

A name expands to `<configs.py>:NAME`, so both forms go through
`config_flags.DEFINE_config_file` with `lock_config=True`: an override must name a
field that exists (a misspelt one is an error, not a new key) and is parsed by
the field's type (`--config.optim.learning_rate=1` is the float 1.0, a string
field takes the text as it is, a tuple field takes `"(1.0, 0.7)"` or the flag
repeated). Named configs list every argument of their model factory
(`configs.model_kwargs`), so `--config.model.kwargs.<argument>=<value>` works for
all of them.

Example (a doctest):

    >>> config = parse_config(["--config=digits_glow", "--config.train.num_steps=5"],
    ...                       default="mnist5k_cinc")
    >>> config.data.name, config.train.num_steps
    ('digits', 5)
    >>> argv = ["--config", "digits_glow", "--config.seed=3"]
    >>> has_config_argument(argv), config_name(argv, default="mnist5k_cinc")
    (True, 'digits_glow')
    >>> expand_name("digits_glow").endswith("configs.py:digits_glow")
    True
    >>> try:
    ...     config_or_exit(["--config.train.num_stesp=5"], default="digits_glow")
    ... except SystemExit as error:
    ...     print(str(error).split(";")[0])
    --config.<field>: no field 'num_stesp' in this config
    >>> import tempfile                             # an experiment's configs/ folder
    >>> folder = tempfile.mkdtemp()
    >>> for name in ("quick.py", "default.py", "_shared.py"):
    ...     open(os.path.join(folder, name), "w").close()
    >>> config_names(folder)
    ['default', 'quick']
"""

import argparse
import os

import ml_collections
from absl import flags
from ml_collections import config_flags

from jinvnet.train import configs

_FLAG = "config"


def expand_name(value: str, configs_dir: str | None = None) -> str:
    """A config name as a config_flags path; a path (`*.py[:arg]`) as it is.

    Without `configs_dir` a name is one of the training configs,
    `<configs.py>:NAME`; with it, a file `<configs_dir>/NAME.py` (an experiment's
    `configs/` folder, Flax-examples style).

    Raises:
      ValueError: for an unknown name, listing the known ones.
    """
    if value.split(":", 1)[0].endswith(".py"):
        return value
    if configs_dir is None:
        configs.get_config(value)  # an unknown name fails here, with the known ones
        return f"{configs.__file__}:{value}"
    path = os.path.join(configs_dir, f"{value}.py")
    if not os.path.exists(path):
        known = ", ".join(config_names(configs_dir))
        raise ValueError(f"unknown config {value!r}; known configs: {known}")
    return path


def config_names(configs_dir: str) -> list[str]:
    """The config names of an experiment's configs/ folder (its `NAME.py` files)."""
    return sorted(
        name[:-3]
        for name in os.listdir(configs_dir)
        if name.endswith(".py") and not name.startswith("_")
    )


def _expand_config_argument(argv: list[str], configs_dir: str | None) -> list[str]:
    """The arguments with the last `--config=NAME` first, as `--config=<path>:NAME`.

    config_flags wants one `--config`, before its overrides; here the order is free
    and, as in argparse, the last `--config` wins.
    """
    configs_given, others, i = [], [], 0
    while i < len(argv):
        item = argv[i]
        if item.startswith(f"--{_FLAG}="):
            value = item.split("=", 1)[1]
            configs_given.append(f"--{_FLAG}=" + expand_name(value, configs_dir))
        elif item == f"--{_FLAG}" and i + 1 < len(argv):
            configs_given.append(f"--{_FLAG}=" + expand_name(argv[i + 1], configs_dir))
            i += 1
        else:
            others.append(item)
        i += 1
    return [*configs_given[-1:], *others]


def has_config_argument(argv: list[str]) -> bool:
    """Whether argv names a config (`--config=...` or `--config ...`)."""
    return any(a == f"--{_FLAG}" or a.startswith(f"--{_FLAG}=") for a in argv)


def config_name(argv: list[str], *, default: str) -> str:
    """The `--config` value argv gives (the last one), or `default`."""
    name = default
    for item, following in zip(argv, [*argv[1:], ""]):
        if item.startswith(f"--{_FLAG}="):
            name = item.split("=", 1)[1]
        elif item == f"--{_FLAG}":
            name = following
    return name


def parse_config(
    argv: list[str],
    *,
    default: str | ml_collections.ConfigDict,
    configs_dir: str | None = None,
) -> ml_collections.ConfigDict:
    """The config that argv names (or `default`), with argv's overrides applied.

    Args:
      argv: `--config=...` and `--config.<field>=<value>` arguments only (the
        caller parses its own flags first, e.g. with argparse's
        `parse_known_args`).
      default: a config name or file used when argv has no `--config`; or a
        ConfigDict (e.g. the one a run saved), which overrides then change.
      configs_dir: where names are files `NAME.py` with `get_config()` (an
        experiment's configs/ folder); None (default) for the training configs.

    Returns:
      The config, locked against new fields (`ConfigDict.unlock()` undoes it).

    Raises:
      ValueError: an unknown config name, a field that does not exist, a value
        that does not parse as the field's type, an override before `--config`,
        or any other argument; the message says which.
    """
    given = has_config_argument(argv)
    argv = _expand_config_argument(list(argv), configs_dir)
    flag_values = flags.FlagValues()
    sys_argv = ["jinvnet", *argv]
    try:
        if isinstance(default, ml_collections.ConfigDict) and not given:
            config_flags.DEFINE_config_dict(
                _FLAG, default, flag_values=flag_values, sys_argv=sys_argv
            )
        else:
            config_flags.DEFINE_config_file(
                _FLAG,
                None if given else expand_name(default, configs_dir),
                flag_values=flag_values,
                lock_config=True,
                sys_argv=sys_argv,
            )
        leftover = flag_values(sys_argv)[1:]
        config = flag_values[_FLAG].value
    except (flags.Error, AttributeError, KeyError, TypeError) as error:
        raise ValueError(_message(error)) from error
    if leftover:
        raise ValueError(
            f"unrecognised arguments {leftover}; overrides look like "
            "--config.train.num_steps=100"
        )
    return config


def config_or_exit(
    argv: list[str],
    *,
    default: str | ml_collections.ConfigDict,
    configs_dir: str | None = None,
) -> ml_collections.ConfigDict:
    """`parse_config` for a command line: its ValueError becomes SystemExit."""
    try:
        return parse_config(argv, default=default, configs_dir=configs_dir)
    except ValueError as error:
        raise SystemExit(str(error)) from error


def _message(error: Exception) -> str:
    """A one-line reason, with where to look, for a failed parse."""
    reason = error
    while isinstance(reason, BaseException) and reason.args:
        reason = reason.args[0]  # AttributeError(KeyError("'x'\nDid you mean ..."))
    text = str(reason).replace("\n", "; ")
    if isinstance(error, (AttributeError, KeyError)):
        field, _, hint = text.partition("; ")
        return (
            f"--config.<field>: no field {field} in this config{'; ' * bool(hint)}"
            f"{hint} (see --show_config for the fields; model.kwargs lists every "
            "argument of the factory)"
        )
    return f"{text} (see --show_config)"


def experiment_parser(doc: str, configs_dir: str) -> argparse.ArgumentParser:
    """An experiment's argparse parser; its epilog lists the configs of configs_dir.

    The experiment adds its own flags (where results go, `--quick`); everything
    else on the command line is `--config=NAME` and `--config.<field>=<value>`,
    read by `parse_experiment_args`.
    """
    names = ", ".join(config_names(configs_dir))
    return argparse.ArgumentParser(
        description=doc.strip().splitlines()[0],
        epilog=f"--config=NAME ({names}) then --config.<field>=<value>",
        allow_abbrev=False,
    )


def parse_experiment_args(
    parser: argparse.ArgumentParser,
    argv: list[str] | None,
    *,
    configs_dir: str,
    default: str = "default",
) -> tuple[argparse.Namespace, ml_collections.ConfigDict]:
    r"""The experiment's own flags and its config from argv (None: `sys.argv[1:]`).

    `--quick`, where the parser defines it, is `--config=quick` (an explicit
    `--config=NAME` after it wins). A bad config argument exits with the reason.

    Example:
        >>> import tempfile
        >>> configs_dir = tempfile.mkdtemp()
        >>> with open(os.path.join(configs_dir, "default.py"), "w") as f:
        ...     _ = f.write("import ml_collections\n"
        ...                 "def get_config():\n"
        ...                 "    return ml_collections.ConfigDict({'width': 64})\n")
        >>> parser = experiment_parser("An experiment.", configs_dir)
        >>> _ = parser.add_argument("--output_dir")
        >>> args, config = parse_experiment_args(
        ...     parser, ["--output_dir=/tmp/x", "--config.width=512"],
        ...     configs_dir=configs_dir)
        >>> args.output_dir, config.width
        ('/tmp/x', 512)
    """
    args, config_args = parser.parse_known_args(argv)
    if getattr(args, "quick", False):
        config_args = ["--config=quick", *config_args]
    config = config_or_exit(config_args, default=default, configs_dir=configs_dir)
    return args, config
