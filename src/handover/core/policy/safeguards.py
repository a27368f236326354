"""Safeguards: what must hold before a person is put on a movement, as pure functions over plain facts.

Which safeguards apply is policy (configured per operation); a breach is refused unless someone with the permission
overrides that safeguard for that request, with a reason, and the override is recorded on the person's events.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from handover.core.custody.model import Estate
from handover.i18n import _


class Safeguard(StrEnum):
    FIT_TO_TRAVEL = "fit-to-travel"
    LEGAL_REVIEW = "legal-review"
    MINOR_WITH_GUARDIAN = "minor-with-guardian"
    CAPACITY = "destination-capacity"
    SEATS = "seats"


ALL = frozenset(Safeguard)

# The assessment kinds and the outcomes that satisfy them (recorded as `assessed` custody events).
FIT_TO_TRAVEL = "fit_to_travel"
LEGAL_REVIEW = "legal_review"
PASSING = {FIT_TO_TRAVEL: frozenset({"fit"}), LEGAL_REVIEW: frozenset({"cleared"})}


@dataclass(frozen=True, slots=True)
class Candidate:
    """One person asked onto a manifest: what the safeguards look at."""

    person_id: str
    estate: Estate
    mother_id: str | None
    assessments: Mapping[str, str] = field(default_factory=dict)
    """Each assessment kind's latest outcome."""


@dataclass(frozen=True, slots=True)
class Trip:
    """The movement the candidates would join."""

    code: str
    cross_border: bool
    manifest: frozenset[str]
    """People already on its manifest."""
    capacity: Mapping[Estate, int]
    """The destination's places per estate."""
    committed: Mapping[Estate, int]
    """Places already taken or spoken for at the destination: held there, arriving, or on movements heading there."""
    seats: int | None
    """The smallest leg's seats; None while the movement has no legs."""


@dataclass(frozen=True, slots=True)
class Breach:
    person_id: str
    safeguard: Safeguard
    message: str


def breaches(candidates: Sequence[Candidate], trip: Trip, applying: Collection[Safeguard] = ALL) -> list[Breach]:
    """Every safeguard the request would break, in the order of the candidates; empty when it may go ahead."""
    found: list[Breach] = []
    joining = {c.person_id for c in candidates} | trip.manifest
    for candidate in candidates:
        found.extend(_personal(candidate, trip, joining, applying))
    if Safeguard.CAPACITY in applying:
        found.extend(_capacity(candidates, trip))
    newcomers = [c for c in candidates if c.person_id not in trip.manifest]
    if Safeguard.SEATS in applying and trip.seats is not None and newcomers:
        total = len(trip.manifest) + len(newcomers)
        if total > trip.seats:
            # Named: the first newcomer beyond the seats (everyone after them is over too).
            first = newcomers[max(0, trip.seats - len(trip.manifest))].person_id
            found.append(
                Breach(
                    first,
                    Safeguard.SEATS,
                    _("movement {code} has {seats} seats on its smallest leg; {total} people would be on it").format(
                        code=trip.code, seats=trip.seats, total=total
                    ),
                )
            )
    return found


def _personal(candidate: Candidate, trip: Trip, joining: set[str], applying: Collection[Safeguard]) -> Iterable[Breach]:
    person = candidate.person_id
    if Safeguard.FIT_TO_TRAVEL in applying and candidate.assessments.get(FIT_TO_TRAVEL) not in PASSING[FIT_TO_TRAVEL]:
        outcome = candidate.assessments.get(FIT_TO_TRAVEL)
        yield Breach(
            person,
            Safeguard.FIT_TO_TRAVEL,
            _("no fit-to-travel assessment")
            if outcome is None
            else _("assessed {outcome} to travel").format(outcome=outcome),
        )
    if (
        Safeguard.LEGAL_REVIEW in applying
        and trip.cross_border
        and candidate.assessments.get(LEGAL_REVIEW) not in PASSING[LEGAL_REVIEW]
    ):
        outcome = candidate.assessments.get(LEGAL_REVIEW)
        yield Breach(
            person,
            Safeguard.LEGAL_REVIEW,
            _("no legal review before a cross-border handover")
            if outcome is None
            else _("legal review outcome is {outcome}, not cleared").format(outcome=outcome),
        )
    if (
        Safeguard.MINOR_WITH_GUARDIAN in applying
        and candidate.estate is Estate.MINORS
        and (candidate.mother_id is None or candidate.mother_id not in joining)
    ):
        yield Breach(
            person,
            Safeguard.MINOR_WITH_GUARDIAN,
            _("a minor whose mother or guardian is not on movement {code}").format(code=trip.code),
        )


def _capacity(candidates: Sequence[Candidate], trip: Trip) -> Iterable[Breach]:
    taken = dict(trip.committed)
    for candidate in candidates:
        if candidate.person_id in trip.manifest:
            continue
        estate = candidate.estate
        taken[estate] = taken.get(estate, 0) + 1
        places = trip.capacity.get(estate, 0)
        if taken[estate] > places:
            yield Breach(
                candidate.person_id,
                Safeguard.CAPACITY,
                _("the destination has {places} places for {estate}, and {taken} would be taken").format(
                    places=places, estate=estate.value, taken=taken[estate]
                ),
            )
            return  # one line names the first person over; the rest are over for the same reason
