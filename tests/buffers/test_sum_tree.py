import numpy as np
import pytest
from scipy import stats

from sb3_atari_ext.buffers.sum_tree import SumTree


def test_total_and_min_follow_updates():
    tree = SumTree(10)
    tree.update(np.arange(10), np.arange(1, 11, dtype=float))
    assert tree.total == pytest.approx(55.0)
    assert tree.min == pytest.approx(1.0)
    tree.update(np.array([0, 9]), np.array([5.0, 0.5]))
    assert tree.total == pytest.approx(55.0 - 1 - 10 + 5 + 0.5)
    assert tree.min == pytest.approx(0.5)
    np.testing.assert_allclose(tree[np.array([0, 9, 4])], [5.0, 0.5, 5.0])


def test_repeated_index_in_one_update_keeps_last_value():
    tree = SumTree(4)
    tree.update(np.array([1, 1, 1]), np.array([3.0, 4.0, 7.0]))
    assert tree.total == pytest.approx(7.0)


def test_find_returns_leaf_of_prefix_sum():
    tree = SumTree(5)
    tree.update(np.arange(5), np.array([1.0, 0.0, 2.0, 3.0, 4.0]))
    # cumulative sums: [1, 1, 3, 6, 10]
    values = np.array([0.0, 0.99, 1.0, 2.9, 3.0, 5.99, 6.0, 9.99])
    np.testing.assert_array_equal(tree.find(values), [0, 0, 2, 2, 3, 3, 4, 4])


def test_find_never_returns_an_empty_leaf():
    tree = SumTree(1000)
    tree.update(np.arange(3), np.array([0.1, 0.2, 0.3]))
    leaves = tree.find(np.array([tree.total, tree.total * (1 - 1e-17), 0.6]))
    assert set(leaves.tolist()) <= {0, 1, 2}


def test_sampling_frequencies_are_proportional_to_priorities():
    rng = np.random.default_rng(0)
    priorities = np.array([1.0, 2.0, 3.0, 4.0, 0.0, 10.0])
    tree = SumTree(len(priorities))
    tree.update(np.arange(len(priorities)), priorities)
    n = 200_000
    leaves = tree.find(rng.random(n) * tree.total)
    counts = np.bincount(leaves, minlength=len(priorities))
    assert counts[4] == 0
    nonzero = priorities > 0
    expected = n * priorities[nonzero] / priorities.sum()
    _, p_value = stats.chisquare(counts[nonzero], expected)
    assert p_value > 1e-3


@pytest.mark.parametrize("bad", [np.array([-1.0]), np.array([np.nan]), np.array([np.inf])])
def test_rejects_invalid_priorities(bad):
    tree = SumTree(4)
    with pytest.raises(ValueError):
        tree.update(np.array([0]), bad)


def test_rejects_out_of_range_index():
    tree = SumTree(4)
    with pytest.raises(IndexError):
        tree.update(np.array([4]), np.array([1.0]))


def test_zero_priorities_are_excluded_from_the_minimum():
    tree = SumTree(4)
    tree.update(np.arange(4), np.array([0.5, 2.0, 3.0, 4.0]))
    tree.update(np.array([0]), np.array([0.0]))
    assert tree.min == pytest.approx(2.0)
    assert 0 not in tree.find(np.linspace(0, tree.total * 0.999, 50))
