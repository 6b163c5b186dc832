"""The order `make bench` runs its targets in, and `make bench-ab` its sides."""

from __future__ import annotations

from scripts.bench import in_turn


def test_every_other_round_runs_the_targets_in_reverse_order() -> None:
    names = ["bare", "memory mode", "redis mode"]
    assert [in_turn(names, round_) for round_ in range(3)] == [names, names[::-1], names]
    assert names == ["bare", "memory mode", "redis mode"]  # the caller's list is left as it was
