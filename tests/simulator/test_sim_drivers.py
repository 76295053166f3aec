"""Arriving drivers present tokens nobody else is charging with, while there are any."""

from __future__ import annotations

import random

import pytest

from kilowatt.simulator.drivers import TokenPool


def test_tokens_in_use_are_not_handed_out_twice_until_all_are_taken() -> None:
    pool = TokenPool(["A", "B", "C"], random.Random(1))
    taken = {pool.take() for _ in range(3)}
    assert taken == {"A", "B", "C"}
    assert pool.take() in taken  # all in use: reuse one
    pool.release("B")
    pool.release("B")  # released twice: held twice
    assert pool.in_use == 2
    assert pool.take() == "B"


def test_an_empty_pool_is_refused() -> None:
    with pytest.raises(ValueError):
        TokenPool([])
