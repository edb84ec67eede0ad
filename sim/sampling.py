"""Every random input of a block of trials, drawn before any trial runs.

Every field of every element has its own stream: numpy's PCG64DXSM generator, its 128-bit state
and increment taken from a hash of (seed, element kind, element id, field), so a stream depends
on nothing but its own name, and block k of it starts k * 2**64 draws in (the generator's exact
jump-ahead; a block draws far fewer than 2**64 numbers, so blocks never overlap). Starting a
stream is a state assignment and a jump on a reused generator (about 2 us) rather than a new
seeded generator (8-14 us). PCG64DXSM is numpy's recommended generator for many parallel
streams, and it draws a uniform in half the time and a Beta in about a fifth less than the
counter-based Philox that sampling version 0.2 used (the README's "What the engine does" lists
the versions). So:
- results do not depend on how blocks are spread over workers;
- a variant that changes one element leaves every other element's draws unchanged (common
  random numbers), and adding attempts to an activity leaves its earlier attempts' draws alone;
- every block draws a full BLOCK_SIZE of trials and the last block is cut, so the first N
  trials of a longer run equal a run of N trials with the same seed.

Draws are converted here to what the engine consumes: days, already multiplied by the
activity's factors, so the engine only schedules.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import math
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from .distributions import AnyDistribution, Empirical, Fixed, Pert, Triangular, Uniform
from .model import DAYS_PER_YEAR, Activity, Dependency, Scenario

# Trials per block: large enough that the per-field costs (starting a stream, a few numpy
# calls) are small beside the draws, small enough that the default 10,000-trial run still
# spreads over two workers and a block of a large scenario fits in memory.
BLOCK_SIZE = 2000


def fresh_seed() -> int:
    """A new seed, small enough to read out and type back in."""
    return secrets.randbelow(2**31)


@functools.lru_cache(maxsize=65_536)
def _key(seed: int, kind: str, element_id: str, field: str) -> tuple[int, int]:
    """The PCG64DXSM state and increment (odd) of one field of one element: 256 bits of a
    hash, so streams never collide in practice and depend on nothing but their own (seed,
    element, field)."""
    digest = hashlib.blake2b(f"{seed}:{kind}:{element_id}:{field}".encode(),
                             digest_size=32).digest()
    return int.from_bytes(digest[:16], "little"), int.from_bytes(digest[16:], "little") | 1


# One generator per thread, re-keyed for every stream (threads must not share it), and the
# state it is given, kept so that re-keying only writes the key into it.
_local = threading.local()


def stream(seed: int, block: int, kind: str, element_id: str, field: str) -> np.random.Generator:
    """The generator for one field of one element in one block.

    It is this thread's reused generator, re-keyed: draw everything needed from it before
    asking for the next stream.
    """
    gen: np.random.Generator | None = getattr(_local, "gen", None)
    if gen is None:
        _local.bits = np.random.PCG64DXSM(0)
        gen = _local.gen = np.random.Generator(_local.bits)
        _local.state = {"bit_generator": "PCG64DXSM", "state": {"state": 0, "inc": 1},
                        "has_uint32": 0, "uinteger": 0}
    bits: np.random.PCG64DXSM = _local.bits
    state = _local.state
    state["state"]["state"], state["state"]["inc"] = _key(seed, kind, element_id, field)
    bits.state = state
    if block:
        bits.advance(block << 64)
    return gen


Lazy = Callable[[], np.random.Generator]


def _draw(dist: AnyDistribution, rng: Lazy, rows: int, size: int) -> np.ndarray:
    """`rows` x `size` draws, row-major over rows so adding rows keeps the earlier ones.

    `rng` makes the field's stream; a fixed value needs none (making a stream costs more
    than drawing a block from it, and every stream is its own, so skipping one changes no
    other draw).
    """
    if isinstance(dist, Fixed):
        return np.full((rows, size), float(dist.value))
    if isinstance(dist, Pert | Triangular) and dist.high > dist.low:
        # numpy's Beta and triangular draws, value for value, faster (see sim.samplers).
        from .samplers import three_point_into

        out = np.empty((rows, BLOCK_SIZE))
        three_point_into(rng(), dist, out)
        return out[:, :size]
    return dist.sample(rng(), rows * BLOCK_SIZE).reshape(rows, BLOCK_SIZE)[:, :size]


@dataclass
class ActivityDraws:
    """One activity's inputs for a block, in days (rows: attempts; columns: trials): views
    into the block's arrays (:class:`BlockArrays`)."""

    ready_floor: np.ndarray  # (n,) planned + slip; -inf without `planned`
    lags: list[np.ndarray]  # one (n,) per dependency, in `after` order
    duration: np.ndarray  # (attempts, n)
    launch_u: np.ndarray  # (attempts, n) uniform; the launch fails when >= reliability
    success_u: np.ndarray  # (attempts, n) uniform; the attempt succeeds when < success
    rebuild: np.ndarray  # (attempts - 1, n)
    risk_delay: np.ndarray  # (n,) sum of the delays of the risks that occurred and list it


@dataclass
class BlockArrays:
    """A block's draws as whole arrays, drawn straight into them: what the compiled engine
    reads. Rows past an activity's attempts (or a vehicle's launches) are never read; a
    ready floor without `planned` is -inf and a uniform that is not drawn is 0."""

    ready_floor: np.ndarray  # (activities, n)
    lags: np.ndarray  # (dependencies, n): every activity's `after`, in order
    delay: np.ndarray  # (activities, n)
    duration: np.ndarray  # (activities, most attempts, n)
    launch_u: np.ndarray  # (activities, most attempts, n)
    success_u: np.ndarray  # (activities, most attempts, n)
    rebuild: np.ndarray  # (activities, most attempts, n)
    risk_time: np.ndarray  # (risks, n)
    stand_down: np.ndarray  # (vehicles, most launches, n)

    @classmethod
    def empty(cls, scenario: Scenario, size: int) -> BlockArrays:
        acts, n_act = scenario.activities, len(scenario.activities)
        most = max((a.attempts for a in acts), default=1)
        most_sd = max((_launches(scenario, v.id) for v in scenario.vehicles), default=1)
        per_attempt = (n_act, most, size)
        return cls(
            ready_floor=np.full((n_act, size), -np.inf),
            lags=np.empty((sum(len(_waits(a)) for a in acts), size)),
            delay=np.zeros((n_act, size)),
            duration=np.empty(per_attempt),
            launch_u=np.zeros(per_attempt),
            success_u=np.zeros(per_attempt),
            rebuild=np.empty(per_attempt),
            risk_time=np.full((len(scenario.risks), size), np.inf),
            stand_down=np.empty((len(scenario.vehicles), most_sd, size)),
        )


@dataclass
class BlockDraws:
    block: int
    size: int
    factors: dict[str, np.ndarray]  # factor id -> (n,) multiplier
    activities: list[ActivityDraws]
    risk_time: np.ndarray  # (risks, n) days from as_of when it occurs; inf when it does not
    stand_down: list[np.ndarray]  # per vehicle (k, n): days grounded after its k-th failure
    arrays: BlockArrays  # the same draws, as the arrays the views above look into


def _waits(act: Activity) -> tuple[Dependency, ...]:
    """The dependencies whose lags are drawn: none for a mission under way (the plan, in
    sim.engine.plan, drops them the same way)."""
    return () if act.under_way else act.after


def _launches(scenario: Scenario, vehicle_id: str) -> int:
    return max(sum(a.attempts for a in scenario.activities if vehicle_id in a.vehicles), 1)


def draw_block(scenario: Scenario, seed: int, block: int, size: int, *,
               reuse: bool = False) -> BlockDraws:
    """All random inputs of trials block*BLOCK_SIZE ... +size-1.

    With `reuse`, the arrays are this thread's from its previous block of the same scenario
    and size, drawn over: the caller must be done with that block's draws (a run is, once
    its engine has returned)."""
    if not 0 < size <= BLOCK_SIZE:
        raise ValueError(f"block size must be 1..{BLOCK_SIZE}, got {size}")
    arrays = _block_arrays(scenario, size) if reuse else BlockArrays.empty(scenario, size)
    factors = {
        f.id: _draw(f.distribution, _lazy(seed, block, "factor", f.id, "value"), 1, size)[0]
        for f in scenario.factors
    }
    _draw_risks(scenario, seed, block, size, arrays)
    scales = _Scales(scenario, factors)
    activities = []
    lag_row = 0
    for a, act in enumerate(scenario.activities):
        activities.append(_draw_activity(scenario, act, a, lag_row, seed, block, size, scales,
                                         arrays))
        lag_row += len(_waits(act))
    stand_down = []
    for v, veh in enumerate(scenario.vehicles):
        launches = _launches(scenario, veh.id)
        rng = _lazy(seed, block, "vehicle", veh.id, "stand_down")
        out = arrays.stand_down[v, :launches]
        np.multiply(_draw(veh.stand_down, rng, launches, size), scenario.days_per_unit, out=out)
        _bound(out, _magnitude(veh.stand_down) * scenario.days_per_unit)
        stand_down.append(out)
    return BlockDraws(block, size, factors, activities, arrays.risk_time, stand_down, arrays)


# A block of the 50-activity benchmark programme draws into 15 MB of arrays. Allocated afresh
# for every block, glibc maps them anew (they are too large for its heap), and the kernel hands
# the pages back when they are freed and faults them in again on the next block's first writes:
# measured, that took 40% of the cost of drawing (3.8 against 2.2 us a trial). So a run draws
# each block into the arrays of its thread's previous block, kept here.
_kept = threading.local()


def _block_arrays(scenario: Scenario, size: int) -> BlockArrays:
    """This thread's arrays for `scenario` and `size`, ready to be drawn into."""
    kept: tuple[Scenario, int, BlockArrays] | None = getattr(_kept, "block", None)
    if kept is None or kept[0] is not scenario or kept[1] != size:
        arrays = BlockArrays.empty(scenario, size)
        _kept.block = (scenario, size, arrays)
        return arrays
    arrays = kept[2]
    # What the drawing does not write for every block: a floor stays -inf without `planned`
    # (a recorded failure takes the maximum with it), and the risks add their delays to 0.
    # Every other row a block reads is written in full by each block of the same scenario,
    # or is a uniform never drawn for it, still 0.
    arrays.ready_floor.fill(-np.inf)
    arrays.delay.fill(0.0)
    return arrays


def release_block_arrays() -> None:
    """Drop this thread's kept block arrays."""
    _kept.block = None


@contextlib.contextmanager
def keeping_block_arrays() -> Iterator[None]:
    """A run: its blocks reuse this thread's arrays (``draw_block(..., reuse=True)``), which
    are dropped when it ends, however it ends."""
    try:
        yield
    finally:
        release_block_arrays()


# The longest single drawn duration, slip, lag, rebuild, delay or stand-down, in days
# (27,000 years). A draw this long already lands past the calendar's end (sim.timebase), so
# capping it changes no reported date; it keeps every engine time a finite, moderate float
# whatever product of heavy-tailed factors a trial draws.
MAX_DRAW_DAYS = 1e7


def _bound(days: np.ndarray, magnitude: float) -> None:
    """Cap `days` (in place) at MAX_DRAW_DAYS, unless no value can exceed it: `magnitude` is
    an upper bound on their size (the cap is then the identity, and costs a pass for
    nothing). Each array is capped once it is final, so what is capped is a sum or a
    product, as drawn, never its parts."""
    if not magnitude <= MAX_DRAW_DAYS:  # a NaN bound (0 times inf) caps as well
        np.minimum(days, MAX_DRAW_DAYS, out=days)


def _magnitude(dist: AnyDistribution) -> float:
    """The largest size (absolute value) `dist` can draw; inf for an unbounded one."""
    if isinstance(dist, Fixed):
        return abs(float(dist.value))
    if isinstance(dist, Uniform | Triangular | Pert):
        return max(abs(float(dist.low)), abs(float(dist.high)))
    if isinstance(dist, Empirical):
        return max(abs(float(v)) for v in dist.values)
    return math.inf  # lognormal, calibrated slip


class _Scales:
    """What an activity's draws are multiplied by: days per time unit, then its factors in
    order (the same products whichever activity asks first), with a bound on its size."""

    def __init__(self, scenario: Scenario, factors: dict[str, np.ndarray]):
        self.days_per_unit = float(scenario.days_per_unit)
        self.factors = factors
        self.bounds = {f.id: _magnitude(f.distribution) for f in scenario.factors}
        self.made: dict[tuple[str, ...], float | np.ndarray] = {}

    def of(self, act: Activity) -> tuple[float | np.ndarray, float]:
        """The scale and a bound on its size."""
        key = act.factors
        bound = self.days_per_unit
        for fid in key:
            bound *= self.bounds[fid]
        if key not in self.made:
            scale: float | np.ndarray = self.days_per_unit
            for fid in key:
                scale = scale * self.factors[fid]
            self.made[key] = scale
        return self.made[key], bound


def _lazy(seed: int, block: int, kind: str, element_id: str, field: str) -> Lazy:
    return lambda: stream(seed, block, kind, element_id, field)


def _draw_risks(scenario: Scenario, seed: int, block: int, size: int,
                arrays: BlockArrays) -> None:
    """Each risk's time into arrays.risk_time, and its delay added to arrays.delay."""
    index = scenario.activity_index
    for r, risk in enumerate(scenario.risks):
        if risk.occurred is not None or risk.expired is not None:
            # What happened is not drawn again: it takes effect at as_of, or never.
            arrays.risk_time[r] = 0.0 if risk.occurred is not None else np.inf
        else:
            u = stream(seed, block, "risk", risk.id, "occurs").random(BLOCK_SIZE)[:size]
            if risk.probability is not None:
                arrays.risk_time[r] = np.where(u < risk.probability, 0.0, np.inf)
            else:
                arrays.risk_time[r] = _hazard_time_days(risk.annual_probability or 0.0, u)
        if risk.delay is not None:
            rng = _lazy(seed, block, "risk", risk.id, "delay")
            delay = _draw(risk.delay, rng, 1, size)[0] * scenario.days_per_unit
            delay = np.where(arrays.risk_time[r] == 0.0, delay, 0.0)
            for aid in risk.applies_to:  # summed in the risks' order, from 0.0
                arrays.delay[index[aid]] += delay
    if any(r.delay is not None for r in scenario.risks):
        np.minimum(arrays.delay, MAX_DRAW_DAYS, out=arrays.delay)


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
    a: int,
    lag_row: int,
    seed: int,
    block: int,
    size: int,
    scales: _Scales,
    arrays: BlockArrays,
) -> ActivityDraws:
    """Activity `a`'s draws into its rows of `arrays` (its lags from row `lag_row`)."""
    def rng(field: str) -> Lazy:
        return _lazy(seed, block, "activity", act.id, field)

    # Days per unit times the factors, in that order; a scale of exactly 1 is not applied
    # (x * 1.0 == x, so skipping it changes no value).
    scale, scale_bound = scales.of(act)
    capped: list[tuple[np.ndarray, float]] = []  # capped once final (see _bound)

    def put(dist: AnyDistribution, field: str, out: np.ndarray) -> np.ndarray:
        """`field`'s draws times the scale into `out` ((size,) or (rows, size)). A fixed
        value is multiplied as a number: the same products, without drawing an array."""
        capped.append((out, _magnitude(dist) * scale_bound))
        if isinstance(dist, Fixed):
            value = float(dist.value)
            if isinstance(scale, float):
                out[...] = value if scale == 1.0 else value * scale
            else:
                np.multiply(value, scale, out=out)
            return out
        x = _draw(dist, rng(field), 1 if out.ndim == 1 else len(out), size).reshape(out.shape)
        if isinstance(scale, float) and scale == 1.0:
            out[...] = x
        else:
            np.multiply(x, scale, out=out)
        return out

    n_attempts = act.attempts
    ready_floor = arrays.ready_floor[a]  # -inf unless planned
    if act.planned is not None and act.finished_on is None:
        planned = scenario.days_from_as_of(act.planned)
        ready_floor[...] = planned
        if act.slip:
            ready_floor += put(act.slip, "slip", np.empty(size))
            capped[-1] = (ready_floor, abs(planned) + capped[-1][1])
    # A mission under way no longer waits for its predecessors: no lags (nor lag rows).
    lags = [put(d.lag, f"lag:{d.id}", arrays.lags[lag_row + k])
            for k, d in enumerate(_waits(act))]
    rebuild = arrays.rebuild[a, : n_attempts - 1]
    if act.on_failure is not None and n_attempts > 1:
        put(act.on_failure.rebuild, "rebuild", rebuild)
    # A uniform the engines never read is not drawn (it stays 0): launch_u is read only for
    # launches, and success_u only decides something when success < 1 (u < 1 always holds).
    launch_u = arrays.launch_u[a, :n_attempts]
    if act.vehicles:
        _uniforms(rng("launch")(), launch_u)
    success_u = arrays.success_u[a, :n_attempts]
    if act.success < 1:
        _uniforms(rng("success")(), success_u)
    duration = put(act.duration, "duration", arrays.duration[a, :n_attempts])
    if act.under_way:
        left = act.attempts_left
        if act.launched is not None:
            # In flight: a plain attempt from as_of whose length is what remains of the flight
            # (0 + x == x, so it finishes on launched + duration exactly). Its plan no longer
            # matters (the slip is drawn all the same: the streams stay as they were).
            rest = scenario.days_from_as_of(act.launched) + duration[0]
            duration[0] = np.maximum(rest, 0.0)
            launch_u[0] = 0.0
            ready_floor[...] = -np.inf
        else:
            # A recorded failure: the next attempt is ready a rebuild after it (and not before
            # planned + slip), and the engine's attempt k is the activity's attempt k + 1.
            assert act.failed is not None
            if left > 0:
                after_failure = scenario.days_from_as_of(act.failed) + rebuild[0]
                np.maximum(ready_floor, after_failure, out=ready_floor)
            for rows in (duration, launch_u, success_u):
                rows[:left] = rows[1 : left + 1].copy()
            rebuild[: max(left - 1, 0)] = rebuild[1:left].copy()
        duration, launch_u, success_u = duration[:left], launch_u[:left], success_u[:left]
        rebuild = rebuild[: max(left - 1, 0)]
        # Times moved by what happened before as_of: capped whatever they can reach.
        capped += [(ready_floor, math.inf), (duration, math.inf), (rebuild, math.inf)]
    for days, magnitude in capped:
        _bound(days, magnitude)
    return ActivityDraws(
        ready_floor=ready_floor,
        lags=lags,
        duration=duration,
        launch_u=launch_u,
        success_u=success_u,
        rebuild=rebuild,
        risk_delay=arrays.delay[a],
    )


def _uniforms(gen: np.random.Generator, out: np.ndarray) -> None:
    """Uniforms into `out` (rows, size): each row the first `size` of BLOCK_SIZE drawn, so a
    cut block draws what a full one does. A full block is drawn in place."""
    rows, size = out.shape
    if size == BLOCK_SIZE and out.flags.c_contiguous:
        gen.random(out=out)
    else:
        out[...] = gen.random((rows, BLOCK_SIZE))[:, :size]


def blocks(trials: int) -> list[tuple[int, int]]:
    """(block index, size) pairs covering `trials` trials."""
    return [
        (b, min(BLOCK_SIZE, trials - b * BLOCK_SIZE)) for b in range(math.ceil(trials / BLOCK_SIZE))
    ]
