"""A problem with the input, located as precisely as is known: shared by the YAML loader
(which knows files and lines) and the model's own validation (which knows field paths)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Path", "Problem", "ScenarioError", "format_path", "show"]

# A value's address: mapping keys (str) and list indices (int) from the document root.
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as we know."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ScenarioError(Exception):
    """Bad scenario input; `.problems` lists every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = list(problems)

    def __reduce__(self) -> tuple[type[ScenarioError], tuple[list[Problem]]]:
        # Rebuilt from its problems when it crosses a process boundary (a worker, Dask).
        return (ScenarioError, (self.problems,))


def format_path(path: Path) -> str:
    """('activities', 'ce7', 'after', 1, 'lag') -> 'activities.ce7.after[1].lag'."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out




def show(value: Any) -> str:
    """A found value as the user would recognise it from their YAML, shortened."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        text = "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    elif isinstance(value, list):
        text = "[" + ", ".join(show(v) for v in value) + "]"
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:56] + " ..."
