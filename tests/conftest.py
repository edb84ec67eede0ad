"""Shared fixtures: small scenario files written into a temporary folder."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

WriteFile = Callable[..., Path]


def dedent(text: str) -> str:
    """Test YAML written indented inside Python: line 1 is the first line after the quotes."""
    return textwrap.dedent(text).lstrip("\n")


@pytest.fixture
def write(tmp_path: Path) -> WriteFile:
    """write(name, yaml_text) -> the path of a new file under tmp_path (dedented)."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text), encoding="utf-8")
        return path

    return _write
