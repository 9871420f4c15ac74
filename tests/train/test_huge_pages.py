"""`train.huge_pages`: glibc's hugetlb tunable, checked with the kernel's own
page-fault counts, and the restart (the command line's switch:
tests/train/test_main.py)."""

import os
import subprocess
import sys
import textwrap

import pytest

from jinvnet.train import huge_pages

_ON_REQUEST = (
    huge_pages.glibc_version() is not None
    and huge_pages.glibc_version() >= (2, 35)
    and huge_pages.kernel_mode() == "madvise"
)
_NEEDS_THP = pytest.mark.skipif(
    not _ON_REQUEST, reason="needs glibc >= 2.35 and THP in madvise mode"
)

# Allocates (C malloc, as XLA does; numpy asks for huge pages itself), fills and
# frees a 64 MiB buffer 8 times; prints the minor page faults the kernel counted
# for the loop (getrusage).
_FAULTS = textwrap.dedent(
    """
    import ctypes, resource
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    size = 64 * 2**20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(8):
        buffer = libc.malloc(size)
        libc.memset(buffer, 1, size)
        libc.free(buffer)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    """
)


def _without_tunable() -> dict:
    env = dict(os.environ)
    env.pop(huge_pages.VARIABLE, None)
    return env


def test_environment_adds_the_tunable_and_keeps_others():
    assert huge_pages.environment({})[huge_pages.VARIABLE] == "glibc.malloc.hugetlb=1"
    env = huge_pages.environment(
        {"GLIBC_TUNABLES": "glibc.malloc.arena_max=2", "A": "b"}
    )
    assert env == {
        "GLIBC_TUNABLES": "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1",
        "A": "b",
    }
    assert huge_pages.requested(env)
    assert not huge_pages.requested({"GLIBC_TUNABLES": "glibc.malloc.hugetlb_x=1"})
    assert huge_pages.requested({"GLIBC_TUNABLES": "a=1:glibc.malloc.hugetlb=0"})
    assert not huge_pages.requested({})


def test_kernel_mode_reads_the_bracketed_choice(tmp_path):
    path = tmp_path / "enabled"
    path.write_text("always [madvise] never\n")
    assert huge_pages.kernel_mode(str(path)) == "madvise"
    path.write_text("[always] madvise never\n")
    assert huge_pages.kernel_mode(str(path)) == "always"
    assert huge_pages.kernel_mode(str(tmp_path / "missing")) is None


def test_helps_only_where_the_tunable_is_not_set():
    env = _without_tunable()
    assert huge_pages.helps(env) == _ON_REQUEST
    assert not huge_pages.helps(huge_pages.environment(env))


@_NEEDS_THP
def test_tunable_cuts_page_faults_of_reused_buffers():
    """The kernel's count: 8 x 64 MiB filled is 131,072 faults of 4 KiB pages
    without the tunable (glibc returns each freed buffer to the kernel); with it,
    2 MiB pages fault 512 times less often."""

    def faults(env: dict) -> int:
        command = [sys.executable, "-c", _FAULTS]
        result = subprocess.run(
            command, env=env, capture_output=True, text=True, check=True
        )
        return int(result.stdout.split()[-1])

    without = faults(_without_tunable())
    with_tunable = faults(huge_pages.environment(_without_tunable()))
    assert without >= 0.9 * 8 * 64 * 2**20 // 4096, without
    assert with_tunable * 8 < without, (with_tunable, without)


@_NEEDS_THP
def test_restart_runs_the_same_command_with_the_tunable():
    program = textwrap.dedent(
        """
        import os, sys
        from jinvnet.train import huge_pages
        print("started", sys.argv[1:], flush=True)
        huge_pages.restart_with_huge_pages()
        print("environment", os.environ.get("GLIBC_TUNABLES"))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", program, "x", "--y=1"],
        env=_without_tunable(),
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert lines == [
        "started ['x', '--y=1']",
        "started ['x', '--y=1']",
        "environment glibc.malloc.hugetlb=1",
    ], result.stdout
