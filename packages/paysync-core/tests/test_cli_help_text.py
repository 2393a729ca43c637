"""Help texts keep their ``[section]`` names (rich would read them as markup and drop them)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer

from paysync_core.cli import app, main

_SECTION = re.compile(r"(?<!\\)\[[a-z][a-z_.<>]*\]|\\\[[a-z][a-z_.<>]*\]")


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command of the tree (typer's own click types: no isinstance on ``click``)."""
    yield path, command
    subcommands: dict[str, Any] = getattr(command, "commands", {})
    for name, sub in sorted(subcommands.items()):
        yield from _commands(sub, (*path, name))


def _texts(command: Any) -> list[str]:
    texts = [str(command.help or ""), str(command.epilog or "")]
    texts += [str(getattr(p, "help", None) or "") for p in command.params]
    return texts


def _tokens() -> list[tuple[tuple[str, ...], str]]:
    root = typer.main.get_command(app)
    found: list[tuple[tuple[str, ...], str]] = []
    for path, command in _commands(root):
        for text in _texts(command):
            for token in _SECTION.findall(text):
                found.append((path, token.replace("\\[", "[")))
    return found


def test_the_known_section_names_are_covered() -> None:
    tokens = {token for _, token in _tokens()}
    assert {"[alerts]", "[dashboard]"} <= tokens


@pytest.mark.parametrize(("path", "token"), _tokens())
def test_section_names_survive_in_help(
    path: tuple[str, ...], token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*path, "--help"]) == 0
    out = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert token in out, f"paysync {' '.join(path)} --help lost {token}"
