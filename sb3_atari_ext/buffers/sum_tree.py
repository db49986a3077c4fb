"""A vectorized sum tree (with a min tree beside it) for proportional prioritized replay.

Schaul et al. 2016 ("Prioritized Experience Replay", Sec. 3.3 and App. B.2.1) store priorities
in a binary tree whose inner nodes hold the sum of their children, so that sampling proportional
to priority and updating one priority both cost O(log N). Here every operation works on a whole
batch of indices at once, and the tree is 32-ary (4 levels for 1M leaves): a few numpy calls per
level instead of one Python loop per sample and level, which is what makes ``sample(32)`` +
``update(32)`` cheap at 1M capacity.
"""

from __future__ import annotations

import numpy as np


class SumTree:
    """Sum tree and min tree over ``capacity`` leaves, updated and searched in batches.

    The tree is ``BRANCHING``-ary rather than binary: 1M leaves need 4 levels instead of 20, so a
    batched update or search is a handful of numpy calls per level on ``(batch, 32)`` blocks.
    Inner nodes are always recomputed from their children (never incremented), so no
    floating-point drift accumulates over millions of updates. Leaves hold non-negative
    priorities (already raised to the power alpha by the caller).

    :param capacity: number of leaves (padded internally to a power of ``BRANCHING``)
    """

    BRANCHING = 32

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"SumTree capacity must be >= 1, got {capacity}")
        self.capacity = int(capacity)
        b = self.BRANCHING
        depth = 1
        while b**depth < self.capacity:
            depth += 1
        # _sums[0] are the leaves, _sums[-1] is the root (one node).
        self._sums = [np.zeros(b ** (depth - level), dtype=np.float64) for level in range(depth + 1)]
        self._mins = [np.full(b ** (depth - level), np.inf, dtype=np.float64) for level in range(depth + 1)]

    @property
    def total(self) -> float:
        """Sum of all priorities."""
        return float(self._sums[-1][0])

    @property
    def min(self) -> float:
        """Smallest non-zero priority (``inf`` when none)."""
        return float(self._mins[-1][0])

    def __getitem__(self, indices: np.ndarray | int) -> np.ndarray:
        """Priorities of the given leaves."""
        return self._sums[0][np.asarray(indices)]

    def update(self, indices: np.ndarray, priorities: np.ndarray) -> None:
        """Set the priorities of a batch of leaves and refresh their ancestors.

        :param indices: leaf indices in ``[0, capacity)``; for repeated indices the last value wins
        :param priorities: non-negative finite values, same length as ``indices``
        """
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        priorities = np.asarray(priorities, dtype=np.float64).reshape(-1)
        if indices.size == 0:
            return
        if indices.min() < 0 or indices.max() >= self.capacity:
            raise IndexError(f"SumTree indices must be in [0, {self.capacity}), got {indices.min()}..{indices.max()}")
        if not np.all(np.isfinite(priorities)) or priorities.min() < 0:
            raise ValueError("SumTree priorities must be finite and >= 0")
        b = self.BRANCHING
        self._sums[0][indices] = priorities
        # Leaves of priority 0 are never sampled: keep them out of the minimum (IS-weight normalizer).
        self._mins[0][indices] = np.where(priorities > 0, priorities, np.inf)
        nodes = indices
        for level in range(1, len(self._sums)):
            nodes = nodes // b  # duplicate parents just recompute the same value
            self._sums[level][nodes] = self._sums[level - 1].reshape(-1, b)[nodes].sum(axis=1)
            self._mins[level][nodes] = self._mins[level - 1].reshape(-1, b)[nodes].min(axis=1)

    def find(self, values: np.ndarray) -> np.ndarray:
        """Leaf index for each prefix-sum value: the leaf i with cumsum[i-1] <= v < cumsum[i].

        :param values: values in ``[0, total)``
        :return: leaf indices, never a leaf of zero priority while the total is positive
        """
        values = np.array(values, dtype=np.float64).reshape(-1)
        b = self.BRANCHING
        rows = np.arange(values.size)
        nodes = np.zeros(values.size, dtype=np.int64)
        for level in range(len(self._sums) - 2, -1, -1):
            cumulative = np.cumsum(self._sums[level].reshape(-1, b)[nodes], axis=1)  # [batch, b]
            child = np.minimum((cumulative <= values[:, None]).sum(axis=1), b - 1)
            values = values - np.where(child > 0, cumulative[rows, child - 1], 0.0)
            nodes = nodes * b + child
        leaves = nodes
        # Rounding can land on an empty leaf at the right edge of the filled region; move those
        # to the last leaf of non-zero priority on their left (their true neighbour).
        empty = self._sums[0][leaves] <= 0.0
        if empty.any() and self.total > 0:
            nonzero = np.flatnonzero(self._sums[0][: self.capacity] > 0)
            pos = np.searchsorted(nonzero, leaves[empty], side="right") - 1
            leaves[empty] = nonzero[np.clip(pos, 0, len(nonzero) - 1)]
        return leaves
