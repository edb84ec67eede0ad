"""The engines: one block of trials from a compiled plan and its draws.

- ``des`` (:mod:`sim.engine.des`): SimPy, the readable reference; ``timeline()`` traces.
- ``fast`` (:mod:`sim.engine.fast`): the same event structure compiled with numba; it returns
  identical arrays (the contract is :mod:`sim.blocks`) and is imported only when asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from ..blocks import (
    DRIVER_AS_OF,
    DRIVER_DONE,
    DRIVER_NONE,
    DRIVER_PLANNED,
    OUTCOME_DTYPES,
    BlockOutcome,
    TraceEvent,
)
from ..sampling import BlockDraws
from .plan import Plan

if TYPE_CHECKING:
    from .des import TrialInputs, simulate_trial, timeline

EngineName = Literal["des", "fast"]
ENGINES: tuple[EngineName, ...] = ("des", "fast")
DEFAULT_ENGINE: EngineName = "fast"

__all__ = [
    "DEFAULT_ENGINE",
    "DRIVER_AS_OF",
    "DRIVER_DONE",
    "DRIVER_NONE",
    "DRIVER_PLANNED",
    "ENGINES",
    "OUTCOME_DTYPES",
    "BlockOutcome",
    "EngineName",
    "Plan",
    "TraceEvent",
    "TrialInputs",
    "check_engine",
    "run_block",
    "simulate_trial",
    "timeline",
]


_FROM_DES = ("TrialInputs", "simulate_trial", "timeline")


def __getattr__(name: str) -> Any:
    # The SimPy engine (and SimPy) load on first use: a run with the compiled engine needs
    # neither.
    if name in _FROM_DES:
        from . import des

        return getattr(des, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def check_engine(engine: str) -> EngineName:
    """`engine` if it names an engine; ValueError otherwise."""
    for name in ENGINES:
        if engine == name:
            return name
    raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")


def run_block(plan: Plan, draws: BlockDraws, engine: str = DEFAULT_ENGINE) -> BlockOutcome:
    """Every trial of one block with the named engine."""
    if check_engine(engine) == "fast":
        from . import fast

        return fast.run_block(plan, draws)
    from . import des

    return des.run_block(plan, draws)
