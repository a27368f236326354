"""Safeguards as pure functions: each rule alone, and a property test against a plain restatement of the policy."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from handover.core.custody.model import Estate
from handover.core.policy.safeguards import (
    ALL,
    FIT_TO_TRAVEL,
    LEGAL_REVIEW,
    Candidate,
    Safeguard,
    Trip,
    breaches,
)

CLEARED = {FIT_TO_TRAVEL: "fit", LEGAL_REVIEW: "cleared"}


def trip(**changes: object) -> Trip:
    values: dict[str, object] = {
        "code": "M-1",
        "cross_border": True,
        "manifest": frozenset(),
        "capacity": {Estate.ADULT_MEN: 10, Estate.ADULT_WOMEN: 10, Estate.MINORS: 10},
        "committed": {},
        "seats": 10,
    }
    values.update(changes)
    return Trip(**values)  # type: ignore[arg-type]


def test_each_safeguard_names_the_person_and_why() -> None:
    unassessed = Candidate("p1", Estate.ADULT_MEN, None, {})
    ((fit, legal),) = [breaches([unassessed], trip())]
    assert (fit.person_id, fit.safeguard, fit.message) == ("p1", Safeguard.FIT_TO_TRAVEL, "no fit-to-travel assessment")
    assert legal.safeguard is Safeguard.LEGAL_REVIEW
    assert breaches([unassessed], trip(cross_border=False)) == [fit]  # legal review only before a border
    unfit = Candidate("p1", Estate.ADULT_MEN, None, {**CLEARED, FIT_TO_TRAVEL: "unfit"})
    assert "unfit" in breaches([unfit], trip())[0].message
    child = Candidate("c1", Estate.MINORS, "m1", CLEARED)
    assert [b.safeguard for b in breaches([child], trip())] == [Safeguard.MINOR_WITH_GUARDIAN]
    assert breaches([child], trip(manifest=frozenset({"m1"}))) == []
    mother = Candidate("m1", Estate.ADULT_WOMEN, None, CLEARED)
    assert breaches([child, mother], trip()) == []
    assert breaches([child], trip(), applying=ALL - {Safeguard.MINOR_WITH_GUARDIAN}) == []


def test_capacity_counts_what_is_committed_and_names_the_first_person_over() -> None:
    men = [Candidate(f"p{n}", Estate.ADULT_MEN, None, CLEARED) for n in range(4)]
    (over,) = breaches(men, trip(committed={Estate.ADULT_MEN: 8}))
    assert (over.person_id, over.safeguard) == ("p2", Safeguard.CAPACITY)
    assert "10 places for adult_men, and 11 would be taken" in over.message
    # People already on this manifest are already counted in `committed`.
    assert breaches(men, trip(committed={Estate.ADULT_MEN: 10}, manifest=frozenset(c.person_id for c in men))) == []


def test_seats_are_the_smallest_legs() -> None:
    men = [Candidate(f"p{n}", Estate.ADULT_MEN, None, CLEARED) for n in range(3)]
    (over,) = breaches(men, trip(seats=2, manifest=frozenset({"p0"})))
    assert (over.person_id, over.safeguard) == ("p2", Safeguard.SEATS)
    assert breaches(men, trip(seats=None)) == []


people = st.lists(
    st.builds(
        Candidate,
        person_id=st.sampled_from([f"p{n}" for n in range(12)]),
        estate=st.sampled_from(list(Estate)),
        mother_id=st.none() | st.sampled_from([f"p{n}" for n in range(12)]),
        assessments=st.fixed_dictionaries(
            {},
            optional={
                FIT_TO_TRAVEL: st.sampled_from(["fit", "unfit"]),
                LEGAL_REVIEW: st.sampled_from(["cleared", "risk"]),
            },
        ),
    ),
    max_size=8,
    unique_by=lambda c: c.person_id,
)


@settings(max_examples=300, deadline=None)
@given(
    candidates=people,
    cross_border=st.booleans(),
    on_manifest=st.frozensets(st.sampled_from([f"p{n}" for n in range(12)]), max_size=4),
    capacity=st.integers(0, 6),
    committed=st.integers(0, 6),
    seats=st.none() | st.integers(0, 12),
    applying=st.frozensets(st.sampled_from(list(Safeguard))),
)
def test_no_breach_exactly_when_the_policy_holds(
    candidates: list[Candidate],
    cross_border: bool,
    on_manifest: frozenset[str],
    capacity: int,
    committed: int,
    seats: int | None,
    applying: frozenset[Safeguard],
) -> None:
    found = breaches(
        candidates,
        trip(
            cross_border=cross_border,
            manifest=on_manifest,
            capacity={e: capacity for e in Estate},
            committed={e: committed for e in Estate},
            seats=seats,
        ),
        applying,
    )
    joining = {c.person_id for c in candidates} | on_manifest
    new = [c for c in candidates if c.person_id not in on_manifest]
    holds = {
        Safeguard.FIT_TO_TRAVEL: all(c.assessments.get(FIT_TO_TRAVEL) == "fit" for c in candidates),
        Safeguard.LEGAL_REVIEW: not cross_border
        or all(c.assessments.get(LEGAL_REVIEW) == "cleared" for c in candidates),
        Safeguard.MINOR_WITH_GUARDIAN: all(
            c.estate is not Estate.MINORS or (c.mother_id is not None and c.mother_id in joining) for c in candidates
        ),
        # Only adding people is refused: a destination already full refuses newcomers, not an empty request.
        Safeguard.CAPACITY: all(
            committed + sum(1 for c in new if c.estate is e) <= capacity
            for e in Estate
            if any(c.estate is e for c in new)
        ),
        Safeguard.SEATS: seats is None or not new or len(on_manifest) + len(new) <= seats,
    }
    assert {b.safeguard for b in found} == {s for s in applying if not holds[s]}
    assert all(b.person_id in {c.person_id for c in candidates} for b in found)
