"""Every public function and class of jinvnet's packages appears in a runnable
example (a doctest in its own docstring or in its module's), so the API reference
shows each name in use; `pytest --doctest-modules` (the default) runs them."""

import doctest
import importlib
import inspect
import pkgutil
import re

import pytest

_PACKAGES = ("ops", "bijectors", "models", "data", "train", "diagnostics")


def _modules(package: str):
    root = importlib.import_module(f"jinvnet.{package}")
    for info in pkgutil.iter_modules(root.__path__):
        if not info.name.startswith("_") and info.name != "__main__":
            yield importlib.import_module(f"jinvnet.{package}.{info.name}")


def _public_names(module) -> list[str]:
    """Functions and classes defined in the module, without a leading underscore."""
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and value.__module__ == module.__name__
    ]


def _example_source(module) -> str:
    tests = doctest.DocTestFinder().find(module)
    return "\n".join(example.source for test in tests for example in test.examples)


@pytest.mark.parametrize("package", _PACKAGES)
def test_every_public_name_is_used_in_an_example(package):
    missing = []
    for module in _modules(package):
        source = _example_source(module)
        missing += [
            f"{module.__name__}.{name}"
            for name in _public_names(module)
            if not re.search(rf"\b{name}\b", source)  # a word of the examples' code
        ]
    assert not missing, f"{len(missing)} public names without an example: {missing}"


def test_the_check_finds_a_name_without_an_example():
    """Control: a module whose one function has no example is reported."""
    module = type(importlib)("fake_module", '"""A module.\n\n>>> 1 + 1\n2\n"""')
    exec("def shown():\n    '>>> shown()'\n\ndef hidden():\n    pass", vars(module))
    for name in ("shown", "hidden"):
        vars(module)[name].__module__ = module.__name__
    source = _example_source(module)
    used = [n for n in _public_names(module) if re.search(rf"\b{n}\b", source)]
    assert used == ["shown"]
