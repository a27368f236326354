"""The forecast: exact on constant throughput, ordered bands, deterministic, scenarios that move it the right way."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handover.core.planning.forecast import (
    CrossingClosed,
    IntakeCap,
    RandomHalts,
    ScaleThroughput,
    Scenario,
    crossing_closed,
    double_the_sorties,
    forecast,
    raise_intake_cap,
    random_halts,
    repatriation,
)

DAY0 = date(2026, 1, 22)


def days(*people: int) -> list[tuple[date, int]]:
    return [(DAY0 + timedelta(days=i), n) for i, n in enumerate(people)]


def test_constant_throughput_gives_an_exact_date() -> None:
    # 100 a day for 10 days, 1,000 left: the tenth day after as-of, in every run.
    result = forecast(days(*[100] * 10), 1000, runs=500)
    assert result.as_of == date(2026, 1, 31)
    assert (result.baseline.p50, result.baseline.p85, result.baseline.p95) == (10, 10, 10)
    assert result.baseline.p50_date == date(2026, 2, 10)
    assert result.history_days == 10 and result.moving_days == 10 and result.moved == 1000
    assert result.mean_per_day == 100
    assert result.basis == "Rests on 10 days of history (10 with movements): 1,000 people moved, 100.0 a day."
    json.dumps(result.as_dict())


def test_days_without_movement_count_and_later_days_are_ignored() -> None:
    history = [(DAY0, 100), (DAY0 + timedelta(days=3), 100), (DAY0 + timedelta(days=9), 999)]
    result = forecast(history, 500, as_of=DAY0 + timedelta(days=4))
    assert result.history_days == 5 and result.moving_days == 2 and result.moved == 200
    assert result.mean_per_day == 40


def test_bands_are_ordered_and_deterministic_for_a_seed() -> None:
    history = days(0, 150, 80, 0, 0, 90, 150, 30, 0, 80)
    first = forecast(history, 3000, seed=7, scenarios=[random_halts(0.1, 2)])
    again = forecast(history, 3000, seed=7, scenarios=[random_halts(0.1, 2)])
    assert first == again
    for band in (first.baseline, *first.scenarios):
        assert band.p50 is not None and band.p85 is not None and band.p95 is not None
        assert band.p50 <= band.p85 <= band.p95
    assert forecast(history, 3000, seed=8) != first


def test_scenarios_move_the_date_the_right_way() -> None:
    history = days(0, 150, 80, 0, 0, 90, 150, 30, 0, 80)
    result = forecast(
        history,
        3000,
        daily_cap=100,
        scenarios=[
            double_the_sorties(),
            raise_intake_cap(300),
            Scenario("Double the sorties and raise the cap", (ScaleThroughput(2), IntakeCap(300))),
            crossing_closed(10, share=0.5),
            repatriation(0.5, 2000),
            random_halts(0.2, 3),
        ],
    )
    base = result.baseline
    doubled, raised, both, closed, repatriated, halted = result.scenarios
    assert base.p50 is not None and both.p50 is not None
    assert both.p50 < base.p50
    assert doubled.p50 is not None and doubled.p50 <= base.p50
    assert raised.p50 is not None and raised.p50 <= base.p50
    assert closed.p50 is not None and closed.p50 >= base.p50
    assert repatriated.p50 is not None and repatriated.p50 < base.p50
    assert halted.p50 is not None and halted.p50 >= base.p50
    assert [b.scenario for b in result.scenarios][:2] == ["Double the sorties", "Intake cap raised to 300 a day"]


@settings(max_examples=40, deadline=None)
@given(
    history=st.lists(st.integers(0, 300), min_size=1, max_size=20).filter(any),
    remaining=st.integers(0, 5000),
    seed=st.integers(0, 2**32 - 1),
    chance=st.floats(0.0, 0.5),
    length=st.integers(1, 5),
)
def test_halts_and_closures_never_finish_earlier(
    history: list[int], remaining: int, seed: int, chance: float, length: int
) -> None:
    result = forecast(
        days(*history),
        remaining,
        seed=seed,
        runs=200,
        scenarios=[
            Scenario("halts", (RandomHalts(chance, length),)),
            Scenario("closed", (CrossingClosed(length, from_day=1),)),
        ],
    )
    for band in result.scenarios:
        for ours, base in ((band.p50, result.baseline.p50), (band.p85, result.baseline.p85)):
            # None: not within the forecast's reach, later than any day.
            assert ours is None or (base is not None and ours >= base)
        assert band.finished_share <= result.baseline.finished_share


def test_no_movement_yet_means_no_date() -> None:
    result = forecast(days(0, 0, 0), 100, runs=50, max_days=30)
    assert result.baseline.p50 is None and result.baseline.finished_share == 0.0
    assert forecast(days(0, 0), 0, runs=10).baseline.p95 == 0
    with pytest.raises(ValueError, match="as-of date"):
        forecast([], 10)
