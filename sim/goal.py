"""The goal's time in each trial, from the activities' finish times (vectorised over trials)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .model import AllOf, AnyOf, AtLeast, Requirement

# Rows per chunk: the parts of a requirement are stacked per chunk, so the temporary arrays
# stay a few tens of MB however many trials there are (a whole 1,000,000-trial run over 50
# parts used to make a 0.8 GB temporary).
CHUNK_ROWS = 65_536


def goal_times(req: Requirement, finish: np.ndarray, index: Mapping[str, int]) -> np.ndarray:
    """Days from as_of at which `req` is met in each trial (rows of `finish`); inf = never.

    `all` is the latest of its parts, `any` the earliest, `at_least k` the k-th earliest.
    """
    out = np.empty(len(finish))
    for lo in range(0, len(finish), CHUNK_ROWS):
        out[lo : lo + CHUNK_ROWS] = _goal_times(req, finish[lo : lo + CHUNK_ROWS], index)
    return out


def _goal_times(req: Requirement, finish: np.ndarray, index: Mapping[str, int]) -> np.ndarray:
    if isinstance(req, str):
        return finish[:, index[req]].copy()
    if all(isinstance(p, str) for p in req.parts):  # plain ids: their columns, not copies
        columns = [index[p] for p in req.parts]  # type: ignore[index]
        parts = finish if columns == list(range(finish.shape[1])) else finish[:, columns]
    else:
        parts = np.stack([_goal_times(p, finish, index) for p in req.parts], axis=1)
    if isinstance(req, AllOf):
        latest: np.ndarray = parts.max(axis=1)
        return latest
    if isinstance(req, AnyOf):
        earliest: np.ndarray = parts.min(axis=1)
        return earliest
    if isinstance(req, AtLeast):
        return np.partition(parts, req.count - 1, axis=1)[:, req.count - 1]
    raise TypeError(f"not a requirement: {req!r}")
