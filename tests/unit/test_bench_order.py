"""How `make bench` orders its rounds, and takes its ratios within them."""

from __future__ import annotations

from scripts.bench import Wrk, in_turn, within_rounds


def test_every_other_round_runs_the_targets_in_reverse_order() -> None:
    names = ["bare", "memory mode", "redis mode"]
    assert [in_turn(names, round_) for round_ in range(3)] == [names, names[::-1], names]
    assert names == ["bare", "memory mode", "redis mode"]  # the caller's list is left as it was


def test_a_ratio_is_taken_within_each_round_then_the_median() -> None:
    def runs(*rates: float) -> list[Wrk]:
        return [Wrk(rps=rate, p50_ms=1.0, p99_ms=2.0, requests=int(rate)) for rate in rates]

    # Round by round 0.5, 0.9, 0.8: the median is 0.8, not 800 / 1000 of the medians' rates.
    assert within_rounds(runs(500, 900, 800), runs(1000, 1000, 1000)) == 0.8
    assert within_rounds(runs(80, 90, 100), runs(100, 100, 125)) == 0.8
