"""Prints the README main-job or test command (first code block, lines 1 and 2).

Usage: python3 .ci/readme_commands.py {main,test}
"""

import pathlib
import re
import sys


def readme_commands(readme: str) -> dict[str, str]:
    """Returns {"main": first line, "test": second line} of the first fenced block."""
    block = re.search(r"```(?:bash|sh)?\n(.*?)```", readme, re.S)
    if block is None:
        raise SystemExit("README.md has no fenced code block with the two commands")
    lines = [line for line in block.group(1).splitlines() if line.strip()]
    if len(lines) != 2:
        raise SystemExit(f"README's first code block must hold 2 commands, got {lines}")
    return {"main": lines[0], "test": lines[1]}


if __name__ == "__main__":
    root = pathlib.Path(__file__).resolve().parent.parent
    print(readme_commands((root / "README.md").read_text())[sys.argv[1]])
