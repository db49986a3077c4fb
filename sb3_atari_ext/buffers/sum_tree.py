"""A vectorized sum tree (with a min tree beside it) for proportional prioritized replay.

Schaul et al. 2016 ("Prioritized Experience Replay", Sec. 3.3 and App. B.2.1) store priorities
in a binary tree whose inner nodes hold the sum of their children, so that sampling proportional
to priority and updating one priority both cost O(log N). Here every operation works on a whole
batch of indices at once: one numpy operation per tree level instead of one Python loop per
sample, which is what makes ``sample(32)`` + ``update(32)`` cheap at 1M capacity.
"""

from __future__ import annotations

import numpy as np


class SumTree:
    """Binary sum tree and min tree over ``capacity`` leaves, all updated in batches.

    Leaves hold non-negative priorities (already raised to the power alpha by the caller).

    :param capacity: number of leaves (rounded up to a power of two internally)
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"SumTree capacity must be >= 1, got {capacity}")
        self.capacity = int(capacity)
        self._depth = max(1, (self.capacity - 1).bit_length())
        self._n_leaves = 1 << self._depth
        # Node 1 is the root; node i has children 2i and 2i+1; leaves start at _n_leaves.
        self._sum = np.zeros(2 * self._n_leaves, dtype=np.float64)
        self._min = np.full(2 * self._n_leaves, np.inf, dtype=np.float64)

    @property
    def total(self) -> float:
        """Sum of all priorities."""
        return float(self._sum[1])

    @property
    def min(self) -> float:
        """Smallest priority among leaves that were set (``inf`` when none)."""
        return float(self._min[1])

    def __getitem__(self, indices: np.ndarray | int) -> np.ndarray:
        """Priorities of the given leaves."""
        return self._sum[np.asarray(indices) + self._n_leaves]

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
        nodes = indices + self._n_leaves
        self._sum[nodes] = priorities
        self._min[nodes] = priorities
        # Walk up one level at a time; duplicate parents just recompute the same value.
        for _ in range(self._depth):
            nodes >>= 1
            left = nodes << 1
            self._sum[nodes] = self._sum[left] + self._sum[left + 1]
            self._min[nodes] = np.minimum(self._min[left], self._min[left + 1])

    def find(self, values: np.ndarray) -> np.ndarray:
        """Leaf index for each prefix-sum value: the leaf i with cumsum[i-1] <= v < cumsum[i].

        :param values: values in ``[0, total)``
        :return: leaf indices, never a leaf of zero priority while the total is positive
        """
        values = np.array(values, dtype=np.float64).reshape(-1)
        nodes = np.ones(values.shape, dtype=np.int64)
        for _ in range(self._depth):
            left = nodes << 1
            left_sum = self._sum[left]
            go_right = values >= left_sum
            values = np.where(go_right, values - left_sum, values)
            nodes = left + go_right
        leaves = nodes - self._n_leaves
        # Rounding can land on an empty leaf at the right edge of the filled region; move those
        # to the last leaf of non-zero priority on their left (their true neighbour).
        empty = self._sum[nodes] <= 0.0
        if empty.any() and self.total > 0:
            nonzero = np.flatnonzero(self._sum[self._n_leaves : self._n_leaves + self.capacity] > 0)
            pos = np.searchsorted(nonzero, leaves[empty], side="right") - 1
            leaves[empty] = nonzero[np.clip(pos, 0, len(nonzero) - 1)]
        return leaves
