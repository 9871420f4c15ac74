"""Transparent huge pages for the host memory of a CPU training run (glibc malloc).

XLA:CPU allocates each step's buffers afresh (the scanned steps' stored
activations alone are tens of MB) and glibc returns them to the kernel when they
are freed, so every step touches new pages: about two million 4 KiB page faults in
a minute of Glow training at batch 64 (docs/benchmarks.md, "Huge pages"). With
glibc's tunable `glibc.malloc.hugetlb=1` (glibc >= 2.35) malloc asks the kernel for
transparent huge pages (2 MiB) where the kernel offers them on request
(`/sys/kernel/mm/transparent_hugepage/enabled` = madvise): a fifth of the faults,
and the measured step time drops by about a tenth.

glibc reads tunables once, when the process starts, from the environment variable
GLIBC_TUNABLES. So a program can only turn them on for a new process: the
trainer's command line (`python -m jinvnet.train`) starts itself again with the
tunable added (`restart_with_huge_pages`) unless GLIBC_TUNABLES already names
`glibc.malloc.hugetlb` (any value: `glibc.malloc.hugetlb=0` keeps it off) or
--no_huge_pages is given. Your own programs can be started the same way:

    GLIBC_TUNABLES=glibc.malloc.hugetlb=1 python my_training_script.py

Example (a doctest):

    >>> import os
    >>> environment({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"})["GLIBC_TUNABLES"]
    'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1'
    >>> requested({"GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"})  # set: left alone
    True
    >>> kernel_mode() in ("always", "madvise", "never", None)  # None: not Linux
    True
    >>> version = glibc_version()                 # (2, 36) on Debian 12; None: no glibc
    >>> version is None or version >= (2, 0)
    True
    >>> helps(environment({}))                    # the tunable already set
    False
    >>> saved = dict(os.environ)
    >>> os.environ[VARIABLE] = "glibc.malloc.hugetlb=0"
    >>> restart_with_huge_pages()     # the tunable named: returns, no new process
    >>> os.environ.clear(); os.environ.update(saved)
"""

import os
import sys
from collections.abc import Mapping

TUNABLE = "glibc.malloc.hugetlb"
VARIABLE = "GLIBC_TUNABLES"
THP_SETTING = "/sys/kernel/mm/transparent_hugepage/enabled"


def requested(env: Mapping[str, str]) -> bool:
    """Whether `env`'s GLIBC_TUNABLES names the hugetlb tunable (on or off)."""
    entries = env.get(VARIABLE, "").split(":")
    return any(entry.split("=")[0] == TUNABLE for entry in entries)


def environment(env: Mapping[str, str]) -> dict[str, str]:
    """A copy of `env` with `glibc.malloc.hugetlb=1` added to GLIBC_TUNABLES."""
    env = dict(env)
    tunables = [t for t in env.get(VARIABLE, "").split(":") if t]
    env[VARIABLE] = ":".join(tunables + [f"{TUNABLE}=1"])
    return env


def kernel_mode(path: str = THP_SETTING) -> str | None:
    """The kernel's transparent huge page mode: "always", "madvise" or "never".

    None where it cannot be read (not Linux, no THP).
    """
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    chosen = [word[1:-1] for word in text.split() if word.startswith("[")]
    return chosen[0] if chosen else None


def glibc_version() -> tuple[int, int] | None:
    """(major, minor) of the C library if it is glibc, else None."""
    try:
        name, version = os.confstr("CS_GNU_LIBC_VERSION").split()
    except (AttributeError, OSError, ValueError):
        return None
    if name != "glibc":
        return None
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def helps(env: Mapping[str, str] | None = None) -> bool:
    """Whether starting again with the tunable would change anything.

    True for glibc >= 2.35, a kernel that gives huge pages on request (madvise
    mode) and an environment (default `os.environ`) without the tunable.
    """
    env = os.environ if env is None else env
    version = glibc_version()
    return (
        version is not None
        and version >= (2, 35)
        and kernel_mode() == "madvise"
        and not requested(env)
    )


def restart_with_huge_pages() -> None:
    """Replaces this process by the same command with the tunable set, if it `helps`.

    Returns (doing nothing) where it does not; otherwise does not return. Call it
    before any work: the process starts over from its original command line
    (`sys.orig_argv`), with the same interpreter and options.
    """
    if not helps():
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, sys.orig_argv, environment(os.environ))
