"""When will it really finish? A Monte Carlo forecast from the throughput observed so far, with what-if scenarios.

Each run draws every future day's throughput from the days already logged (a bootstrap: days with no movement count,
as they happened) until the people still to move have gone. P50, P85 and P95 of the finishing day over the runs give
the band. Scenarios change the drawn days (more sorties, a higher intake cap, a closed crossing, random halts) or the
number left to move (repatriations). Every scenario sees the same draws (common random numbers): differences between
bands come from the scenario, not from chance, and a change that never adds throughput never finishes earlier.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from handover.i18n import _, ngettext

DRAWS, HALTS, REPATRIATIONS = 0, 1, 2
"""Separate random streams per kind of chance, so that adding halts does not change the throughput draws."""


@dataclass(frozen=True, slots=True)
class ScaleThroughput:
    """Every day carries `factor` times what was drawn (doubling sorties doubles what the transport can carry)."""

    factor: float


@dataclass(frozen=True, slots=True)
class IntakeCap:
    """No day carries more than `per_day` people (the receiving government's pace)."""

    per_day: float


@dataclass(frozen=True, slots=True)
class CrossingClosed:
    """A crossing is closed for `days` days from `from_day` (0 = the first day forecast); `share` of the throughput
    went through it and stops meanwhile."""

    days: int
    from_day: int = 0
    share: float = 1.0


@dataclass(frozen=True, slots=True)
class Repatriation:
    """Each of `foreigners` still to move is taken back by their country with chance `acceptance_rate`, and so
    need not move at all."""

    acceptance_rate: float
    foreigners: int


@dataclass(frozen=True, slots=True)
class RandomHalts:
    """On any day, with chance `chance_per_day`, everything stops for `days` days (a security alert, a request for a
    slower pace)."""

    chance_per_day: float
    days: int


Change = ScaleThroughput | IntakeCap | CrossingClosed | Repatriation | RandomHalts


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    changes: tuple[Change, ...] = ()


def double_the_sorties() -> Scenario:
    return Scenario(_("Double the sorties"), (ScaleThroughput(2.0),))


def raise_intake_cap(per_day: float) -> Scenario:
    return Scenario(_("Intake cap raised to {n} a day").format(n=f"{per_day:,.0f}"), (IntakeCap(per_day),))


def crossing_closed(days: int, *, from_day: int = 0, share: float = 1.0) -> Scenario:
    return Scenario(_("Crossing closed for {n} days").format(n=days), (CrossingClosed(days, from_day, share),))


def repatriation(acceptance_rate: float, foreigners: int) -> Scenario:
    return Scenario(
        _("{pct} of foreigners repatriated").format(pct=f"{acceptance_rate:.0%}"),
        (Repatriation(acceptance_rate, foreigners),),
    )


def random_halts(chance_per_day: float, days: int) -> Scenario:
    return Scenario(
        _("Halts of {n} days, {pct} chance a day").format(n=days, pct=f"{chance_per_day:.0%}"),
        (RandomHalts(chance_per_day, days),),
    )


@dataclass(frozen=True, slots=True)
class Band:
    """One scenario's forecast: days after `as_of` by which half, 85% and 95% of the runs had finished (None: later
    than `max_days`)."""

    scenario: str
    p50: int | None
    p85: int | None
    p95: int | None
    p50_date: date | None
    p85_date: date | None
    p95_date: date | None
    finished_share: float
    """Share of runs that finished within `max_days`."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "p50_days": self.p50,
            "p85_days": self.p85,
            "p95_days": self.p95,
            "p50_date": _iso(self.p50_date),
            "p85_date": _iso(self.p85_date),
            "p95_date": _iso(self.p95_date),
            "finished_share": self.finished_share,
        }


@dataclass(frozen=True, slots=True)
class Forecast:
    as_of: date
    remaining: int
    history_days: int
    """Days of history the forecast rests on, from `since` to `as_of`, days without movement included."""
    moving_days: int
    moved: int
    mean_per_day: float
    runs: int
    seed: int
    max_days: int
    baseline: Band
    scenarios: tuple[Band, ...]
    plan_completion: date | None

    @property
    def basis(self) -> str:
        return ngettext(
            "Rests on {days} day of history ({moving} with movements): {moved} people moved, {pace} a day.",
            "Rests on {days} days of history ({moving} with movements): {moved} people moved, {pace} a day.",
            self.history_days,
        ).format(
            days=self.history_days, moving=self.moving_days, moved=f"{self.moved:,}", pace=f"{self.mean_per_day:,.1f}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "remaining": self.remaining,
            "history_days": self.history_days,
            "moving_days": self.moving_days,
            "moved": self.moved,
            "mean_per_day": self.mean_per_day,
            "basis": self.basis,
            "runs": self.runs,
            "seed": self.seed,
            "max_days": self.max_days,
            "plan_completion": _iso(self.plan_completion),
            "baseline": self.baseline.as_dict(),
            "scenarios": [b.as_dict() for b in self.scenarios],
        }


def forecast(
    history: Iterable[tuple[date, int]],
    remaining: int,
    *,
    as_of: date | None = None,
    since: date | None = None,
    scenarios: Sequence[Scenario] = (),
    daily_cap: float | None = None,
    plan_completion: date | None = None,
    runs: int = 2000,
    seed: int = 0,
    max_days: int = 730,
) -> Forecast:
    """Forecast from `history`, (day, people moved) pairs from the log, for the `remaining` people still to move.

    The history runs from `since` (default: the first day in it) to `as_of` (default: the last), missing days
    counting as days without movement; days after `as_of` are ignored. `daily_cap` is a pace no day exceeds in any
    scenario unless the scenario sets its own cap.
    """
    per_day: dict[date, int] = defaultdict(int)
    for day, people in history:
        per_day[day] += int(people)
    if as_of is None:
        if not per_day:
            raise ValueError(_("A forecast without history needs an as-of date."))
        as_of = max(per_day)
    first = since or min((d for d in per_day if d <= as_of), default=as_of)
    days = [first + timedelta(days=i) for i in range((as_of - first).days + 1)]
    pool = np.asarray([per_day.get(d, 0) for d in days], dtype=np.float64)
    base = _band(Scenario(_("As observed")), pool, remaining, as_of, daily_cap, runs, seed, max_days)
    bands = tuple(_band(s, pool, remaining, as_of, daily_cap, runs, seed, max_days) for s in scenarios)
    return Forecast(
        as_of=as_of,
        remaining=remaining,
        history_days=len(days),
        moving_days=int(np.count_nonzero(pool)),
        moved=int(pool.sum()),
        mean_per_day=float(pool.mean()) if pool.size else 0.0,
        runs=runs,
        seed=seed,
        max_days=max_days,
        baseline=base,
        scenarios=bands,
        plan_completion=plan_completion,
    )


def finishing_days(
    scenario: Scenario,
    pool: np.ndarray[Any, np.dtype[np.float64]],
    remaining: int,
    daily_cap: float | None,
    runs: int,
    seed: int,
    max_days: int,
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """For each run, the day (1 = the day after as-of) on which the last person moves; inf if after `max_days`."""
    draws = np.random.default_rng([seed, DRAWS])
    halts = np.random.default_rng([seed, HALTS])
    repatriations = np.random.default_rng([seed, REPATRIATIONS])
    need = np.full(runs, float(remaining))
    factor = 1.0
    cap = daily_cap
    closures: list[CrossingClosed] = []
    halting: list[RandomHalts] = []
    for change in scenario.changes:
        if isinstance(change, ScaleThroughput):
            factor *= change.factor
        elif isinstance(change, IntakeCap):
            cap = change.per_day
        elif isinstance(change, CrossingClosed):
            closures.append(change)
        elif isinstance(change, Repatriation):
            foreigners = min(max(change.foreigners, 0), remaining)
            need -= repatriations.binomial(foreigners, min(max(change.acceptance_rate, 0.0), 1.0), size=runs)
        else:
            halting.append(change)
    finish = np.where(need <= 0, 0.0, np.inf)
    if pool.size == 0 or not pool.any() or np.all(finish == 0):
        return finish
    done = np.zeros(runs)
    halted = [np.zeros(runs, dtype=np.int64) for _h in halting]
    for day in range(1, max_days + 1):
        carried = pool[draws.integers(0, pool.size, size=runs)] * factor
        for closure in closures:
            if closure.from_day <= day - 1 < closure.from_day + closure.days:
                carried *= 1.0 - min(max(closure.share, 0.0), 1.0)
        for halt, left in zip(halting, halted, strict=True):
            # Draw every day, halted or not, so every run keeps the same stream whatever happens in the others.
            starts = halts.random(runs) < halt.chance_per_day
            left[(left == 0) & starts] = max(halt.days, 0)
            stopped = left > 0
            carried[stopped] = 0.0
            left[stopped] -= 1
        if cap is not None:
            np.minimum(carried, cap, out=carried)
        done += carried
        finish[np.isinf(finish) & (done >= need)] = day
        if not np.isinf(finish).any():
            break
    return finish


def _band(
    scenario: Scenario,
    pool: np.ndarray[Any, np.dtype[np.float64]],
    remaining: int,
    as_of: date,
    daily_cap: float | None,
    runs: int,
    seed: int,
    max_days: int,
) -> Band:
    finish = finishing_days(scenario, pool, remaining, daily_cap, runs, seed, max_days)
    p50, p85, p95 = (_percentile(finish, q) for q in (50, 85, 95))
    return Band(
        scenario=scenario.name,
        p50=p50,
        p85=p85,
        p95=p95,
        p50_date=_after(as_of, p50),
        p85_date=_after(as_of, p85),
        p95_date=_after(as_of, p95),
        finished_share=float(np.isfinite(finish).mean()),
    )


def _percentile(finish: np.ndarray[Any, np.dtype[np.float64]], q: float) -> int | None:
    # The smallest day by which at least q% of runs had finished: always a day some run actually finished on.
    value = float(np.percentile(finish, q, method="inverted_cdf"))
    return None if np.isinf(value) else int(value)


def _after(as_of: date, days: int | None) -> date | None:
    return None if days is None else as_of + timedelta(days=days)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
