"""`config_cli.parse_config` (config_flags over the named configs) and the named
configs' complete `model.kwargs` (`configs.model_kwargs`)."""

import inspect

import pytest

from jinvnet import models
from jinvnet.train import config_cli, configs


def test_named_config_with_typed_overrides():
    config = config_cli.parse_config(
        [
            "--config=digits_glow",
            "--config.train.num_steps=7",
            "--config.optim.learning_rate=1",  # an int for a float field
            "--config.data.name=mnist",
            "--config.train.temperatures=(0.5,)",
            "--config.train.figures=False",
        ],
        default="mnist5k_cinc",
    )
    assert config.train.num_steps == 7
    assert config.optim.learning_rate == 1.0
    assert isinstance(config.optim.learning_rate, float)
    assert config.data.name == "mnist"
    assert config.train.temperatures == (0.5,)
    assert config.train.figures is False
    # Everything not overridden is the named config's value.
    reference = configs.get_config("digits_glow")
    assert config.model.to_dict() == reference.model.to_dict()
    assert config.optim.ema_decay == reference.optim.ema_decay


def test_default_and_space_separated_config():
    assert (
        config_cli.parse_config([], default="digits_cinc").to_dict()
        == configs.get_config("digits_cinc").to_dict()
    )
    config = config_cli.parse_config(["--config", "digits_glow"], default="nope")
    assert config.model.factory == "multiscale.glow"


def test_every_factory_argument_can_be_overridden():
    # digits_glow sets neither: one is a default of None (a typed placeholder),
    # the other a string default.
    config = config_cli.parse_config(
        [
            "--config=digits_glow",
            "--config.model.kwargs.logit_alpha=0.05",
            "--config.model.kwargs.coupling_init=uniform",
        ],
        default="digits_glow",
    )
    assert config.model.kwargs.logit_alpha == 0.05
    assert config.model.kwargs.coupling_init == "uniform"
    flow = models.multiscale.glow(**config.model.kwargs.to_dict())
    assert flow.logit_alpha == 0.05 and flow.coupling_init == "uniform"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--config.train.nm_steps=3"], r"no field 'nm_steps'.*Did you mean"),
        (["--config.model.kwargs.widht=3"], "no field 'widht'"),
        (["--config.train.num_steps=abc"], "config.train.num_steps=abc"),
        (["--config.model.kwargs.logit_alpha=abc"], "logit_alpha=abc"),
        (["--steps=3"], "Unknown command line flag 'steps'"),
        (["stray"], r"unrecognised arguments \['stray'\]"),
        (["--config=nope"], "unknown config 'nope'; known configs: celeba64_cinc"),
    ],
)
def test_bad_arguments_are_value_errors(argv, message):
    with pytest.raises(ValueError, match=message):
        config_cli.parse_config(argv, default="digits_glow")


def test_overrides_may_come_before_the_config():
    config = config_cli.parse_config(
        ["--config.train.num_steps=3", "--config=digits_cinc"], default="digits_glow"
    )
    assert (config.model.factory, config.train.num_steps) == ("multiscale.cinc", 3)
    # As in argparse, the last --config wins.
    config = config_cli.parse_config(
        ["--config=digits_cinc", "--config.seed=2", "--config=digits_glow"],
        default="digits_cinc",
    )
    assert (config.model.factory, config.seed) == ("multiscale.glow", 2)


def test_config_is_locked_against_new_fields():
    config = config_cli.parse_config([], default="digits_glow")
    with pytest.raises(AttributeError):
        config.train.nm_steps = 3
    config.train.num_steps = 3  # existing fields stay writable
    assert config.train.num_steps == 3


def test_config_file_with_argument(tmp_path):
    path = tmp_path / "my_config.py"
    path.write_text(
        "from jinvnet.train import configs\n"
        "def get_config(steps):\n"
        "    config = configs.get_config('digits_cinc')\n"
        "    config.train.num_steps = int(steps)\n"
        "    return config\n"
    )
    config = config_cli.parse_config(
        [f"--config={path}:123", "--config.optim.learning_rate=0.5"],
        default="digits_glow",
    )
    assert config.train.num_steps == 123
    assert config.optim.learning_rate == 0.5
    assert config.model.factory == "multiscale.cinc"


def test_config_dict_default_takes_overrides():
    saved = configs.get_config("digits_glow")
    saved.train.num_steps = 11
    config = config_cli.parse_config(["--config.train.log_every=2"], default=saved)
    assert (config.train.num_steps, config.train.log_every) == (11, 2)
    with pytest.raises(ValueError, match="no field 'nope'"):
        config_cli.parse_config(["--config.train.nope=2"], default=saved)


def test_config_name():
    assert config_cli.config_name([], default="a") == "a"
    assert config_cli.config_name(["--config=b", "--config.x=1"], default="a") == "b"
    assert config_cli.config_name(["--config", "c"], default="a") == "c"


def _defaults(function) -> dict:
    """The keyword defaults of a factory, read from its signature."""
    return {
        name: p.default
        for name, p in inspect.signature(function).parameters.items()
        if p.default is not p.empty and name not in ("parent", "name")
    }


def test_model_kwargs_are_the_factory_defaults_plus_the_explicit_ones():
    kwargs = configs.model_kwargs("multiscale.cinc", {"hidden_channels": 8})
    expected = {**_defaults(models.multiscale.cinc), "hidden_channels": 8}
    assert kwargs.to_dict() == expected
    # A Flax module class: its dataclass fields, without parent and name.
    kwargs = configs.model_kwargs("IConvNet", {"num_stages": 1})
    assert kwargs.to_dict() == {**_defaults(models.IConvNet), "num_stages": 1}
    # The model is the one the explicit arguments alone build.
    assert models.multiscale.cinc(
        **configs.model_kwargs("multiscale.cinc", {"num_levels": 2}).to_dict()
    ) == models.multiscale.cinc(num_levels=2)


def test_every_named_config_lists_every_factory_argument():
    for name in configs.CONFIGS:
        config = configs.get_config(name)
        factory = configs.resolve_factory(config.model.factory)
        assert set(_defaults(factory)) <= set(config.model.kwargs), name


def test_model_kwargs_errors():
    with pytest.raises(ValueError, match=r"\['widht'\] are not arguments of"):
        configs.model_kwargs("multiscale.cinc", {"widht": 3})
    with pytest.raises(ValueError, match="'nope' is not in jinvnet.models"):
        configs.model_kwargs("nope", {})


def test_complete_model_kwargs_keeps_explicit_values():
    config = configs.get_config("digits_glow")
    config.model.factory = "IConvNet"
    config.model.kwargs = {"num_stages": 1}
    configs.complete_model_kwargs(config)
    expected = {**_defaults(models.IConvNet), "num_stages": 1}
    assert config.model.kwargs.to_dict() == expected


def _write_experiment_configs(folder):
    """An experiment's configs/ folder with `default` and `quick` configs."""
    for name, steps, width in (("default", 10, 2.0), ("quick", 1, 1.0)):
        (folder / f"{name}.py").write_text(
            "import ml_collections\n"
            "def get_config():\n"
            f"    return ml_collections.ConfigDict({{'steps': {steps}, "
            f"'width': {width}}})\n"
        )


def test_experiment_config_folder(tmp_path):
    _write_experiment_configs(tmp_path)
    read = lambda argv: config_cli.parse_config(  # noqa: E731
        argv, default="default", configs_dir=str(tmp_path)
    )
    assert read([]).steps == 10
    assert read(["--config=quick", "--config.width=3"]).to_dict() == {
        "steps": 1,
        "width": 3.0,
    }
    with pytest.raises(ValueError, match="unknown config 'nope'; known configs: "):
        read(["--config=nope"])
    with pytest.raises(ValueError, match="no field 'stesp'"):
        read(["--config.stesp=3"])


def test_experiment_arguments_quick_is_the_quick_config(tmp_path):
    _write_experiment_configs(tmp_path)
    parser = config_cli.experiment_parser("Doc line.\n\nMore.", str(tmp_path))
    assert parser.description == "Doc line."
    assert "--config=NAME (default, quick)" in parser.epilog
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output_dir", required=True)

    def parse(*argv):
        return config_cli.parse_experiment_args(
            parser, ["--output_dir=out", *argv], configs_dir=str(tmp_path)
        )

    args, config = parse()
    assert (args.output_dir, args.quick, config.steps) == ("out", False, 10)
    assert parse("--quick")[1].to_dict() == {"steps": 1, "width": 1.0}
    assert parse("--quick", "--config.width=5")[1].to_dict() == {
        "steps": 1,
        "width": 5.0,
    }
    assert parse("--quick", "--config=default")[1].steps == 10  # the later one wins
    with pytest.raises(SystemExit, match="no field 'widht'"):
        parse("--config.widht=3")
    with pytest.raises(SystemExit, match="Unknown command line flag 'width'"):
        parse("--width=3")
