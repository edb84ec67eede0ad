"""The goal's time in each trial, from the activities' finish times (vectorised over trials)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .model import AllOf, AnyOf, AtLeast, Requirement


def goal_times(req: Requirement, finish: np.ndarray, index: Mapping[str, int]) -> np.ndarray:
    """Days from as_of at which `req` is met in each trial (rows of `finish`); inf = never.

    `all` is the latest of its parts, `any` the earliest, `at_least k` the k-th earliest.
    """
    if isinstance(req, str):
        return finish[:, index[req]].copy()
    parts = np.stack([goal_times(p, finish, index) for p in req.parts], axis=1)
    if isinstance(req, AllOf):
        latest: np.ndarray = parts.max(axis=1)
        return latest
    if isinstance(req, AnyOf):
        earliest: np.ndarray = parts.min(axis=1)
        return earliest
    if isinstance(req, AtLeast):
        return np.partition(parts, req.count - 1, axis=1)[:, req.count - 1]
    raise TypeError(f"not a requirement: {req!r}")
