"""AHP and entropy weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from citycheck.evaluate.weights import ahp_weights, entropy_weights, validate_weights


def test_ahp_textbook_matrix():
    """Saaty's three-criteria example: w ≈ (0.637, 0.258, 0.105), λmax ≈ 3.039, CR ≈ 0.033."""
    a = [[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]]
    res = ahp_weights(a, ["a", "b", "c"])
    assert [res.weights[k] for k in "abc"] == pytest.approx([0.637, 0.258, 0.105], abs=1e-3)
    assert res.lambda_max == pytest.approx(3.0385, abs=1e-3)
    assert res.consistency_ratio == pytest.approx(0.033, abs=1e-3)


def test_ahp_consistent_matrix_has_zero_cr():
    w = np.array([0.5, 0.3, 0.2])
    a = w[:, None] / w[None, :]
    res = ahp_weights(a, ["x", "y", "z"])
    assert res.consistency_ratio == pytest.approx(0.0, abs=1e-9)
    assert list(res.weights.values()) == pytest.approx(w)


def test_ahp_inconsistent_refused():
    a = [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]]
    with pytest.raises(ValueError, match="inconsistent"):
        ahp_weights(a, ["a", "b", "c"])


def test_ahp_not_reciprocal():
    with pytest.raises(ValueError, match="reciprocal"):
        ahp_weights([[1, 3], [3, 1]], ["a", "b"])


def test_entropy_weights_reward_dispersion_and_warn():
    df = pd.DataFrame({"flat": [50, 50, 50, 50], "spread": [0, 10, 50, 100]})
    with pytest.warns(UserWarning, match="not how much they matter"):
        w = entropy_weights(df)
    assert w["spread"] > 0.99 and sum(w.values()) == pytest.approx(1.0)


def test_validate_weights():
    with pytest.raises(ValueError, match="sum to 1"):
        validate_weights({"a": 0.5, "b": 0.6}, ["a", "b"], what="dimension")
    with pytest.raises(ValueError, match="unknown dimension"):
        validate_weights({"a": 0.5, "zz": 0.5}, ["a", "b"], what="dimension")
