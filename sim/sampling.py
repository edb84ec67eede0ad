"""Every random input of a block of trials, drawn before any trial runs.

Streams are keyed by (seed, block, element kind, element id, field), so:
- results do not depend on how blocks are spread over workers;
- a variant that changes one element leaves every other element's draws unchanged (common
  random numbers), and adding attempts to an activity leaves its earlier attempts' draws alone;
- every block draws a full BLOCK_SIZE of trials and the last block is cut, so the first N
  trials of a longer run equal a run of N trials with the same seed.

Draws are converted here to what the engine consumes: days, already multiplied by the
activity's factors, so the engine only schedules.
"""

from __future__ import annotations

import functools
import hashlib
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .distributions import AnyDistribution, Fixed
from .model import DAYS_PER_YEAR, Activity, Scenario

BLOCK_SIZE = 1000


def fresh_seed() -> int:
    """A new seed, small enough to read out and type back in."""
    return secrets.randbelow(2**31)


@functools.lru_cache(maxsize=65_536)
def _word(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def stream(seed: int, block: int, kind: str, element_id: str, field: str) -> np.random.Generator:
    """The generator for one field of one element in one block."""
    key = (block, _word(f"{kind}:{element_id}:{field}"))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


Lazy = Callable[[], np.random.Generator]


def _draw(dist: AnyDistribution, rng: Lazy, rows: int, size: int) -> np.ndarray:
    """`rows` x `size` draws, row-major over rows so adding rows keeps the earlier ones.

    `rng` makes the field's stream; a fixed value needs none (making a stream costs more
    than drawing a block from it, and every stream is its own, so skipping one changes no
    other draw).
    """
    if isinstance(dist, Fixed):
        return np.full((rows, size), float(dist.value))
    return dist.sample(rng(), rows * BLOCK_SIZE).reshape(rows, BLOCK_SIZE)[:, :size]


@dataclass
class ActivityDraws:
    """One activity's inputs for a block, in days (rows: attempts; columns: trials)."""

    ready_floor: np.ndarray  # (n,) planned + slip; -inf without `planned`
    lags: list[np.ndarray]  # one (n,) per dependency, in `after` order
    duration: np.ndarray  # (attempts, n)
    launch_u: np.ndarray  # (attempts, n) uniform; the launch fails when >= reliability
    success_u: np.ndarray  # (attempts, n) uniform; the attempt succeeds when < success
    rebuild: np.ndarray  # (attempts - 1, n)
    risk_delay: np.ndarray  # (n,) sum of the delays of the risks that occurred and list it


@dataclass
class BlockDraws:
    block: int
    size: int
    factors: dict[str, np.ndarray]  # factor id -> (n,) multiplier
    activities: list[ActivityDraws]
    risk_time: np.ndarray  # (risks, n) days from as_of when it occurs; inf when it does not
    stand_down: list[np.ndarray]  # per vehicle (k, n): days grounded after its k-th failure


def draw_block(scenario: Scenario, seed: int, block: int, size: int) -> BlockDraws:
    """All random inputs of trials block*BLOCK_SIZE ... +size-1."""
    if not 0 < size <= BLOCK_SIZE:
        raise ValueError(f"block size must be 1..{BLOCK_SIZE}, got {size}")
    factors = {
        f.id: _draw(f.distribution, _lazy(seed, block, "factor", f.id, "value"), 1, size)[0]
        for f in scenario.factors
    }
    risk_time, delay_by_activity = _draw_risks(scenario, seed, block, size)
    activities = [
        _draw_activity(scenario, act, seed, block, size, factors, delay_by_activity)
        for act in scenario.activities
    ]
    stand_down = []
    for veh in scenario.vehicles:
        launches = sum(a.attempts for a in scenario.activities if veh.id in a.vehicles)
        rng = _lazy(seed, block, "vehicle", veh.id, "stand_down")
        draws = _draw(veh.stand_down, rng, max(launches, 1), size)
        stand_down.append(draws * scenario.days_per_unit)
    return _bounded(BlockDraws(block, size, factors, activities, risk_time, stand_down))


# The longest single drawn duration, slip, lag, rebuild, delay or stand-down, in days
# (27,000 years). A draw this long already lands past the calendar's end (sim.timebase), so
# capping it changes no reported date; it keeps every engine time a finite, moderate float
# whatever product of heavy-tailed factors a trial draws.
MAX_DRAW_DAYS = 1e7


def _bounded(draws: BlockDraws) -> BlockDraws:
    for act in draws.activities:
        for array in (act.ready_floor, act.duration, act.rebuild, act.risk_delay, *act.lags):
            np.minimum(array, MAX_DRAW_DAYS, out=array)
    for array in draws.stand_down:
        np.minimum(array, MAX_DRAW_DAYS, out=array)
    return draws


def _lazy(seed: int, block: int, kind: str, element_id: str, field: str) -> Lazy:
    return lambda: stream(seed, block, kind, element_id, field)


def _draw_risks(
    scenario: Scenario, seed: int, block: int, size: int
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    risk_time = np.full((len(scenario.risks), size), np.inf)
    delays: dict[str, np.ndarray] = {}
    for r, risk in enumerate(scenario.risks):
        u = stream(seed, block, "risk", risk.id, "occurs").random(BLOCK_SIZE)[:size]
        if risk.probability is not None:
            risk_time[r] = np.where(u < risk.probability, 0.0, np.inf)
        else:
            risk_time[r] = _hazard_time_days(risk.annual_probability or 0.0, u)
        if risk.delay is not None:
            rng = _lazy(seed, block, "risk", risk.id, "delay")
            delay = _draw(risk.delay, rng, 1, size)[0] * scenario.days_per_unit
            delay = np.where(risk_time[r] == 0.0, delay, 0.0)
            for aid in risk.applies_to:
                delays[aid] = delays.get(aid, 0.0) + delay
    return risk_time, delays


def _hazard_time_days(annual_probability: float, u: np.ndarray) -> np.ndarray:
    """Inverse CDF of an exponential time with P(not yet after t years) = (1-h)^t."""
    if annual_probability <= 0:
        return np.full(u.shape, np.inf)
    if annual_probability >= 1:
        return np.zeros(u.shape)
    rate_per_year = -math.log1p(-annual_probability)
    # 1 - u lies in (0, 1], so the log is finite.
    days: np.ndarray = -np.log1p(-u) / rate_per_year * DAYS_PER_YEAR
    return days


def _draw_activity(
    scenario: Scenario,
    act: Activity,
    seed: int,
    block: int,
    size: int,
    factors: dict[str, np.ndarray],
    delay_by_activity: dict[str, np.ndarray],
) -> ActivityDraws:
    def rng(field: str) -> Lazy:
        return _lazy(seed, block, "activity", act.id, field)

    scale = np.full(size, scenario.days_per_unit)
    for fid in act.factors:
        scale = scale * factors[fid]
    n_attempts = act.attempts
    if act.planned is not None and act.done is None:
        slip = _draw(act.slip, rng("slip"), 1, size)[0] * scale if act.slip else 0.0
        ready_floor = scenario.days_from_as_of(act.planned) + slip + np.zeros(size)
    else:
        ready_floor = np.full(size, -np.inf)
    lags = [_draw(d.lag, rng(f"lag:{d.id}"), 1, size)[0] * scale for d in act.after]
    rebuild_dist = act.on_failure.rebuild if act.on_failure else None
    rebuild = (
        _draw(rebuild_dist, rng("rebuild"), n_attempts - 1, size) * scale
        if rebuild_dist is not None
        else np.zeros((0, size))
    )
    # A uniform the engines never read is not drawn: launch_u is read only for launches, and
    # success_u only decides something when success < 1 (u < 1 always holds).
    never_read = np.zeros((n_attempts, size))
    return ActivityDraws(
        ready_floor=ready_floor,
        lags=lags,
        duration=_draw(act.duration, rng("duration"), n_attempts, size) * scale,
        launch_u=(rng("launch")().random((n_attempts, BLOCK_SIZE))[:, :size]
                  if act.vehicles else never_read),
        success_u=(rng("success")().random((n_attempts, BLOCK_SIZE))[:, :size]
                   if act.success < 1 else never_read),
        rebuild=rebuild,
        risk_delay=delay_by_activity.get(act.id, np.zeros(size)),
    )


def blocks(trials: int) -> list[tuple[int, int]]:
    """(block index, size) pairs covering `trials` trials."""
    return [
        (b, min(BLOCK_SIZE, trials - b * BLOCK_SIZE)) for b in range(math.ceil(trials / BLOCK_SIZE))
    ]
