"""JAX's persistent compilation cache for the trainer: compile once per machine.

XLA compiles the train step of a CIFAR-shaped L3 D32 flow in 8-15 s on a 2-core
CPU (docs/benchmarks.md, "Compile time"), and the evaluation step and the sampler
take seconds more; a resumed run, a rerun with another seed or number of steps,
or `--eval_only` compiled them all again. With JAX's persistent cache
(`jax_compilation_cache_dir`) each compiled program is written to disk, keyed by
its HLO, the compile options, the devices and the jax/jaxlib versions, and a later
process that compiles the same program reads it back instead (the emerging train
step: 1.8 s instead of 9.7-15 s on the dev CPU).

The trainer's command line (`python -m jinvnet.train`) turns it on (`enable`) in
`default_directory()` (`$XDG_CACHE_HOME/jinvnet/xla`, else
`~/.cache/jinvnet/xla`) unless --no_compile_cache is given. A directory you
chose is kept: the environment variable JAX_COMPILATION_CACHE_DIR (or
`jax.config.update("jax_compilation_cache_dir", ...)`) wins. JAX caches only
programs that took at least `jax_persistent_cache_min_compile_time_secs` (1 s) to
compile and never evicts entries unless `jax_compilation_cache_max_size` is set;
the folder can be deleted at any time.

Your own programs turn it on with one line before their first compile:

    jinvnet.train.compile_cache.enable()

Example (a doctest):

    >>> import os, jax
    >>> default_directory({"XDG_CACHE_HOME": "/tmp/cache"})
    '/tmp/cache/jinvnet/xla'
    >>> default_directory({"HOME": "/home/ada"})
    '/home/ada/.cache/jinvnet/xla'
    >>> previous = jax.config.jax_compilation_cache_dir   # (the test suite sets one)
    >>> jax.config.update("jax_compilation_cache_dir", None)
    >>> chosen({"JAX_COMPILATION_CACHE_DIR": "/scratch/xla"})   # the user's wins
    '/scratch/xla'
    >>> import tempfile
    >>> folder = os.path.join(tempfile.mkdtemp(), "xla")
    >>> enable(folder) == jax.config.jax_compilation_cache_dir == folder
    True
    >>> os.path.isdir(folder)
    True
    >>> jax.config.update("jax_compilation_cache_dir", previous)
"""

import os
from collections.abc import Mapping

import jax

VARIABLE = "JAX_COMPILATION_CACHE_DIR"


def default_directory(env: Mapping[str, str] = os.environ) -> str:
    """`$XDG_CACHE_HOME/jinvnet/xla`, or `~/.cache/jinvnet/xla` (XDG's default)."""
    base = env.get("XDG_CACHE_HOME") or os.path.join(
        env.get("HOME") or os.path.expanduser("~"), ".cache"
    )
    return os.path.join(base, "jinvnet", "xla")


def chosen(env: Mapping[str, str] = os.environ) -> str | None:
    """The cache directory the user set (jax config, else `env`'s variable), or None."""
    return jax.config.jax_compilation_cache_dir or env.get(VARIABLE) or None


def enable(directory: str | None = None) -> str:
    """Turns on JAX's persistent compilation cache; returns its directory.

    Args:
      directory: where to keep it; None: the one the user chose (`chosen`), else
        `default_directory()`. Created if missing.

    Call it before the first compile of the programs to cache (earlier compiles
    are not written). JAX itself keys, reads and writes the entries.
    """
    directory = directory or chosen() or default_directory()
    os.makedirs(directory, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", directory)
    return directory
