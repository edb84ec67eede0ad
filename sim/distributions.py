"""Distribution value objects: the uncertain quantities a scenario may state.

Every distribution is immutable, validates its parameters on construction (raising
``ValueError`` with a message fit for a user), samples with an explicit numpy ``Generator``
and knows its analytic mean, so tests compare against theory instead of pinned numbers.
Values are in the scenario's ``time_unit`` (or unitless for factors); conversion to days
happens in :mod:`sim.sampling`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from .limits import MAX_LOGNORMAL_RATIO, MAX_MAGNITUDE

# z such that P(Z <= z) = 0.9 for a standard normal: lognormal p90 = median * exp(sigma * z).
Z90 = 1.2815515655446004

# Beta-PERT shape parameter (the classic "lambda = 4").
PERT_SHAPE = 4.0


@runtime_checkable
class Distribution(Protocol):
    """What every distribution offers."""

    @property
    def mean(self) -> float: ...

    @property
    def minimum(self) -> float:
        """The least value it can draw (0 for a lognormal, whose draws are positive)."""
        ...

    @property
    def is_fixed(self) -> bool: ...

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray: ...

    def to_yaml(self) -> object:
        """The scenario-file spelling of this distribution."""
        ...


def _check_finite(*values: float) -> None:
    """Finite and within the limit on magnitudes (sim.limits.MAX_MAGNITUDE)."""
    for v in values:
        try:
            finite = math.isfinite(v)
        except OverflowError:  # an int too large for a float
            finite = False
        if not finite:
            raise ValueError(f"values must be finite numbers, got {v!r:.40}")
        if abs(v) > MAX_MAGNITUDE:
            raise ValueError(f"values must be at most {MAX_MAGNITUDE:g} in size, got {v!r}")


@dataclass(frozen=True)
class Fixed:
    value: float

    def __post_init__(self) -> None:
        _check_finite(self.value)

    @property
    def mean(self) -> float:
        return float(self.value)

    @property
    def minimum(self) -> float:
        return float(self.value)

    @property
    def is_fixed(self) -> bool:
        return True

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, float(self.value))

    def to_yaml(self) -> object:
        return self.value


@dataclass(frozen=True)
class Uniform:
    low: float
    high: float

    def __post_init__(self) -> None:
        _check_finite(self.low, self.high)
        if self.low > self.high:
            raise ValueError(f"needs low <= high, got [{self.low}, {self.high}]")

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def minimum(self) -> float:
        return float(self.low)

    @property
    def is_fixed(self) -> bool:
        return self.low == self.high

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        # low + (high - low) * u, computed in place (the same values, no temporaries).
        out = rng.random(size)
        out *= self.high - self.low
        out += self.low
        return out

    def to_yaml(self) -> object:
        return {"uniform": [self.low, self.high]}


@dataclass(frozen=True)
class _ThreePoint:
    """low <= mode <= high: the shared checks of Triangular and Pert."""

    low: float
    mode: float
    high: float

    def __post_init__(self) -> None:
        _check_finite(self.low, self.mode, self.high)
        if not self.low <= self.mode <= self.high:
            raise ValueError(
                f"needs low <= mode <= high, got [{self.low}, {self.mode}, {self.high}]"
            )

    @property
    def minimum(self) -> float:
        return float(self.low)

    @property
    def is_fixed(self) -> bool:
        return self.low == self.high


@dataclass(frozen=True)
class Triangular(_ThreePoint):
    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        # numpy's inverse CDF (one uniform per draw), which needs low < high.
        if self.high == self.low:
            return np.full(size, float(self.low))
        return rng.triangular(self.low, self.mode, self.high, size)

    def to_yaml(self) -> object:
        return {"triangular": [self.low, self.mode, self.high]}


@dataclass(frozen=True)
class Pert(_ThreePoint):
    """Beta-PERT on [low, high] with the given mode and shape 4."""

    @property
    def mean(self) -> float:
        return (self.low + PERT_SHAPE * self.mode + self.high) / (PERT_SHAPE + 2)

    @property
    def shapes(self) -> tuple[float, float]:
        """The Beta's two shape parameters (both between 1 and 5); needs low < high."""
        width = self.high - self.low
        return (1 + PERT_SHAPE * (self.mode - self.low) / width,
                1 + PERT_SHAPE * (self.high - self.mode) / width)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        width = self.high - self.low
        if width == 0:
            return np.full(size, float(self.low))
        out = rng.beta(*self.shapes, size)  # low + width * x, in place as in Uniform
        out *= width
        out += self.low
        return out

    def to_yaml(self) -> object:
        return {"pert": [self.low, self.mode, self.high]}


@dataclass(frozen=True)
class LogNormal:
    """Lognormal given by its median and 90th percentile (so sigma = ln(p90/median) / z90)."""

    median: float
    p90: float

    def __post_init__(self) -> None:
        _check_finite(self.median, self.p90)
        if not 0 < self.median < self.p90:
            raise ValueError(f"needs 0 < median < p90, got median {self.median}, p90 {self.p90}")
        if self.p90 / self.median > MAX_LOGNORMAL_RATIO:
            raise ValueError(f"needs p90 at most {MAX_LOGNORMAL_RATIO:g} times the median, got "
                             f"median {self.median}, p90 {self.p90}")

    @property
    def sigma(self) -> float:
        return math.log(self.p90 / self.median) / Z90

    @property
    def mean(self) -> float:
        return self.median * math.exp(self.sigma**2 / 2)

    @property
    def minimum(self) -> float:
        return 0.0

    @property
    def is_fixed(self) -> bool:
        return False

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        out = rng.standard_normal(size)  # median * exp(sigma * z), in place as in Uniform
        out *= self.sigma
        np.exp(out, out=out)
        out *= self.median
        return out

    def to_yaml(self) -> object:
        return {"lognormal": {"median": self.median, "p90": self.p90}}


@dataclass(frozen=True)
class Empirical:
    """Each listed value equally likely."""

    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.values) == 0:
            raise ValueError("needs at least one value, got an empty list")
        _check_finite(*self.values)

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def minimum(self) -> float:
        return float(min(self.values))

    @property
    def is_fixed(self) -> bool:
        return len(set(self.values)) == 1

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.asarray(self.values, dtype=float)[rng.integers(0, len(self.values), size)]

    def to_yaml(self) -> object:
        return {"empirical": list(self.values)}


# A slip fitted on the reference class (`slip: {reference_class: GROUP}`); it is built by the
# loader from a rules file, never from its own YAML mapping, so it is not in KINDS.
from .calibration.slip import CalibratedSlip  # noqa: E402

AnyDistribution = Fixed | Uniform | Triangular | Pert | LogNormal | Empirical | CalibratedSlip

# The YAML spelling of each non-fixed kind and how many parameters its list takes.
KINDS: dict[str, type] = {
    "uniform": Uniform,
    "triangular": Triangular,
    "pert": Pert,
    "lognormal": LogNormal,
    "empirical": Empirical,
}

ZERO = Fixed(0.0)
ONE = Fixed(1.0)
