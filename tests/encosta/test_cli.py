"""The command line: every subcommand has help, and the README documents every one."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from encosta.cli import build_parser

README = (Path(__file__).resolve().parent.parent.parent / "README.md").read_text()


def subcommands() -> list[str]:
    """The names of ``encosta``'s subcommands."""
    parser = build_parser()
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sorted(actions[0].choices)


@pytest.mark.parametrize("command", subcommands())
def test_every_subcommand_has_help_and_is_in_the_readme(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``encosta COMMAND --help`` exits 0 with a usage line, and the README names the command."""
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([command, "--help"])
    assert exit_info.value.code == 0
    assert f"encosta {command}" in capsys.readouterr().out
    assert f"`encosta {command}" in README
