"""Transfer operations through the services: a whole journey with a border handover, incidents and reconciliation;
the safeguards, boarding, handover and admission refusals; two intake officers admitting one person at once."""

from __future__ import annotations

import base64
import itertools
import threading
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest

from handover.core.custody import Authority, Capacity, EventType, Facility, RefusedError, Rule, Status
from handover.core.custody.handover import Side, sign
from handover.core.custody.model import AuthorityKind, FacilityKind, TransportMode
from handover.core.custody.movements import Route, Vehicle
from handover.core.policy.permissions import Actor, Permission
from handover.core.policy.safeguards import FIT_TO_TRAVEL, LEGAL_REVIEW, Safeguard
from handover.services import assessments, handovers, incidents, reconciliation, reference, transfers
from handover.services.access import ForbiddenError
from handover.services.errors import ConflictError
from handover.services.incidents import IncidentKind
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import SimulatedClock, seeded_runtime
from handover.store.uow import Database
from tests.factories import T0, child, man, woman
from tests.journeys import OFFICERS, board_and_depart, clear, hand_over

RABIA = Facility(
    "rabia", "Rabia border crossing", "IQ", FacilityKind.BORDER_CROSSING, 36.8, 42.1, "iq-cts", 3, Capacity(0, 0, 0)
)
ROAD = Route(
    "ghweran-karkh-road",
    "ghweran",
    "karkh",
    ("kharab-al-jir", "rabia"),
    TransportMode.ROAD_CONVOY,
    "us-centcom",
    700,
    45,
)
FAMILIES = Route(
    "al-hol-jeddah-road",
    "al-hol",
    "jeddah-1",
    ("kharab-al-jir", "rabia"),
    TransportMode.ROAD_CONVOY,
    "us-centcom",
    400,
    45,
)
HOUR = timedelta(hours=1)


@pytest.fixture
def rt():  # type: ignore[no-untyped-def]
    return seeded_runtime(41, SimulatedClock(T0))


@pytest.fixture
def border(world: Database) -> Database:
    """The small world plus an Iraqi escort, the Rabia crossing and road routes through the staging base and Rabia."""
    with world.unit_of_work() as uow:
        authority = Authority("iq-cts", "Iraqi Counter-Terrorism Service", AuthorityKind.FORCE, "IQ")
        reference.add_reference_data(uow, [authority], [RABIA], [ROAD, FAMILIES])
        uow.commit()
    return world


def _register(db: Database, rt, people: list[NewPerson]) -> list[str]:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as uow:
        stored = register_people(uow, rt, people, T0)
        uow.commit()
    return [s.event.person_id for s in stored]


def _size(db: Database) -> int:
    with db.unit_of_work(read_only=True) as uow:
        return uow.custody.size()


def _road_legs(route: Route, start):  # type: ignore[no-untyped-def]
    """Three legs; the last, inside Iraq, escorted by the Iraqi force."""
    stops = [route.origin_id, *route.via, route.destination_id]
    buses = (Vehicle("Bus 1", 45), Vehicle("Bus 2", 45))
    plans = []
    for n, (here, there) in enumerate(itertools.pairwise(stops)):
        escort = "iq-cts" if here == "rabia" else "us-centcom"
        plans.append(
            transfers.LegPlan(
                here, there, TransportMode.ROAD_CONVOY, escort, buses, start + 3 * n * HOUR, start + (3 * n + 2) * HOUR
            )
        )
    plans[1] = replace(plans[1], lodging=True)  # the night at Rabia
    return plans


def test_a_whole_journey_from_ghweran_and_al_hol_via_the_staging_base_and_rabia(border: Database, rt) -> None:  # type: ignore[no-untyped-def]
    men = _register(border, rt, [NewPerson(man(n), "ghweran") for n in range(6)])
    mothers = _register(border, rt, [NewPerson(woman(n), "al-hol") for n in range(2)])
    children = _register(border, rt, [NewPerson(child(mothers[n % 2], n), "al-hol") for n in range(3)])
    families = mothers + children
    with border.unit_of_work() as uow:
        clear(uow, rt, men + families, T0)
        prison = transfers.create_movement(uow, rt, "ROAD-1", ROAD.id, T0 + HOUR)
        camp = transfers.create_movement(uow, rt, "ROAD-2", FAMILIES.id, T0 + HOUR)
        for m, route in ((prison, ROAD), (camp, FAMILIES)):
            transfers.plan_legs(uow, rt, m.id, _road_legs(route, T0 + HOUR))
            transfers.approve(uow, m.id)
        transfers.manifest(uow, rt, prison.id, men, T0)
        transfers.manifest(uow, rt, camp.id, families, T0)
        uow.commit()

    at = T0 + HOUR
    with border.unit_of_work() as uow:
        for m in (prison, camp):
            hand_over(uow, rt, m.id, "sy-moi", "us-centcom", m.origin_id, at)
            board_and_depart(uow, rt, m.id, at)
            transfers.arrive(uow, rt, m.id, at + 2 * HOUR)  # at the staging base
        uow.commit()
    with border.unit_of_work() as uow:
        # On the road to Rabia one man falls ill and is taken to hospital: he leaves the movement.
        incidents.report(
            uow, rt, IncidentKind.HOSPITALISATION, at + 3 * HOUR, "collapsed, taken to hospital", [men[0]], prison.id
        )
        for m in (prison, camp):
            board_and_depart(uow, rt, m.id, at + 3 * HOUR)
            transfers.arrive(uow, rt, m.id, at + 5 * HOUR)  # at Rabia
        uow.commit()

    # The border handover: the US escort hands everyone left to the Iraqi force, both officers signing.
    with border.unit_of_work() as uow:
        record = handovers.open_handover(uow, rt, prison.id, "rabia", "us-centcom", "iq-cts", at + 5 * HOUR, leg=2)
        document = record.document.encode()
        assert men[0] not in record.document and all(p in record.document for p in men[1:])
        dispatching = OFFICERS.officer_id(uow, rt, "us-centcom")
        signature = base64.b64encode(sign(OFFICERS.key("us-centcom"), document)).decode()
        handovers.sign(uow, rt, record.id, dispatching, Side.DISPATCHING, signature)
        uow.commit()
    with border.unit_of_work(read_only=True) as uow:
        now = T0 + 6 * HOUR
        assert [a.kind for a in reconciliation.alerts(uow, now, 24)] == ["handover_open"]
        assert {s.custodian_id for s in uow.custody.on_movement(prison.id)} == {"us-centcom"}  # not yet passed
    with border.unit_of_work() as uow:
        receiving = OFFICERS.officer_id(uow, rt, "iq-cts")
        signature = base64.b64encode(sign(OFFICERS.key("iq-cts"), document)).decode()
        _, passed = handovers.sign(uow, rt, record.id, receiving, Side.RECEIVING, signature)
        hand_over(uow, rt, camp.id, "us-centcom", "iq-cts", "rabia", at + 5 * HOUR)
        uow.commit()
    assert sorted(e.event.person_id for e in passed) == sorted(men[1:])
    assert {e.event.detail("document") for e in passed} == {record.digest}

    with border.unit_of_work() as uow:
        # On the last leg one man escapes.
        board_and_depart(uow, rt, prison.id, at + 6 * HOUR)
        incidents.report(uow, rt, IncidentKind.ESCAPE, at + 7 * HOUR, "jumped from bus 2", [men[1]], prison.id)
        board_and_depart(uow, rt, camp.id, at + 6 * HOUR)
        for m in (prison, camp):
            transfers.arrive(uow, rt, m.id, at + 8 * HOUR)
        hand_over(uow, rt, prison.id, "iq-cts", "iq-moj", "karkh", at + 8 * HOUR)
        hand_over(uow, rt, camp.id, "iq-cts", "iq-moj", "jeddah-1", at + 8 * HOUR)
        transfers.admit(uow, rt, prison.id, at + 9 * HOUR)
        transfers.admit(uow, rt, camp.id, at + 9 * HOUR)
        uow.commit()

    with border.unit_of_work() as uow:
        kinds = [a.kind for a in reconciliation.alerts(uow, at + 10 * HOUR, 24)]
        assert kinds.count("escape") == 1 and "handover_open" not in kinds
        done = reconciliation.reconcile(uow, prison.id)
        reconciliation.reconcile(uow, camp.id)
        uow.commit()
    assert done.movement.state.value == "reconciled"
    assert done.outcomes == {"admitted": 4, "escaped": 1, "hospitalised": 1}
    assert (done.departed, done.accounted, done.unaccounted) == (6, 6, [])
    legs = [(c.leg.number, c.boarded, c.accounted) for c in done.legs]
    assert legs == [(1, 6, 6), (2, 5, 5), (3, 5, 5)]  # the hospitalised man did not board at the staging base
    with border.unit_of_work(read_only=True) as uow:
        states = uow.custody.states(men + families)
        assert Counter(s.status for s in states.values()) == {Status.HELD: 9, Status.HOSPITALISED: 1, Status.ESCAPED: 1}
        assert {states[p].facility_id for p in families} == {"jeddah-1"}
        roll = {r.facility_id: r for r in reconciliation.roll(uow, (at + 9 * HOUR).date())}
        assert (roll["karkh"].came_in, roll["karkh"].held, roll["ghweran"].went_out) == (4, 4, 6)
        tasks = reconciliation.notification_tasks(uow, at + 40 * HOUR, 24)
        assert len(tasks) == 9 and all(t.overdue for t in tasks)


def test_a_one_sided_or_wrongly_signed_handover_changes_no_custody(world: Database, rt) -> None:  # type: ignore[no-untyped-def]
    people = _register(world, rt, [NewPerson(man(n), "ghweran") for n in range(2)])
    with world.unit_of_work() as uow:
        clear(uow, rt, people, T0)
        m = transfers.create_movement(uow, rt, "M-1", "ghweran-karkh", T0)
        transfers.approve(uow, m.id)
        transfers.manifest(uow, rt, m.id, people, T0)
        record = handovers.open_handover(uow, rt, m.id, "ghweran", "sy-moi", "us-centcom", T0, present=people[:1])
        uow.commit()
    assert '"missing"' in record.document and people[1] in record.document
    before = _size(world)
    with world.unit_of_work() as uow:
        syrian = OFFICERS.officer_id(uow, rt, "sy-moi")
        american = OFFICERS.officer_id(uow, rt, "us-centcom")
        uow.commit()
    forged = base64.b64encode(sign(OFFICERS.key("iq-moj"), record.document.encode())).decode()
    good = base64.b64encode(sign(OFFICERS.key("sy-moi"), record.document.encode())).decode()
    cases = [
        (syrian, Side.DISPATCHING, forged, "bad-signature"),
        (american, Side.DISPATCHING, good, "wrong-authority"),
        (syrian, Side.DISPATCHING, "not base64!", "bad-signature"),
    ]
    for officer, side, signature, rule in cases:
        with world.unit_of_work() as uow, pytest.raises(ConflictError) as caught:
            handovers.sign(uow, rt, record.id, officer, side, signature)
        assert caught.value.rule == rule
    with world.unit_of_work() as uow:
        handovers.sign(uow, rt, record.id, syrian, Side.DISPATCHING, good)
        uow.commit()
    with world.unit_of_work() as uow, pytest.raises(ConflictError) as caught:
        handovers.sign(uow, rt, record.id, syrian, Side.DISPATCHING, good)
    assert caught.value.rule == "already-signed"
    assert _size(world) == before
    with world.unit_of_work(read_only=True) as uow:
        assert {s.custodian_id for s in uow.custody.states(people).values()} == {"sy-moi"}
        assert [h.id for h in handovers.open_handovers(uow)] == [record.id]


def test_safeguards_refuse_then_an_override_with_reason_is_recorded(world: Database, rt) -> None:  # type: ignore[no-untyped-def]
    (mother,) = _register(world, rt, [NewPerson(woman(), "al-hol")])
    kids = _register(world, rt, [NewPerson(child(mother, n), "al-hol") for n in range(2)])
    with world.unit_of_work() as uow:
        m = transfers.create_movement(uow, rt, "FAM-1", "al-hol-jeddah", T0)
        uow.commit()
    before = _size(world)

    def refused(people: list[str], **kwargs: object) -> ConflictError:
        with world.unit_of_work() as uow, pytest.raises(ConflictError) as caught:
            transfers.manifest(uow, rt, m.id, people, T0, **kwargs)  # type: ignore[arg-type]
        assert _size(world) == before
        return caught.value

    no_assessment = refused(kids)
    assert (no_assessment.rule, no_assessment.subject) == (Safeguard.FIT_TO_TRAVEL.value, kids[0])
    with world.unit_of_work() as uow:
        assessments.assess(uow, rt, [*kids, mother], FIT_TO_TRAVEL, "fit", T0)
        assessments.assess(uow, rt, [mother, kids[0]], LEGAL_REVIEW, "cleared", T0)
        assessments.assess(uow, rt, [kids[1]], LEGAL_REVIEW, "risk", T0)
        uow.commit()
    before = _size(world)
    assert refused(kids[:1]).rule == Safeguard.MINOR_WITH_GUARDIAN.value  # mother not on the movement
    assert refused([mother, *kids]).rule == Safeguard.LEGAL_REVIEW.value  # kids[1] is at risk
    assert "risk" in refused([mother, *kids]).message
    unprivileged = Actor("planner-2", "A planner", frozenset({Permission.PLAN_MOVEMENTS}))
    with world.unit_of_work() as uow, pytest.raises(ForbiddenError):
        transfers.manifest(uow, rt, m.id, [mother, *kids], T0, unprivileged, [Safeguard.LEGAL_REVIEW], "urgent")
    assert refused([mother, *kids], overrides=[Safeguard.LEGAL_REVIEW]).rule == "reason-required"
    lead = Actor("lead-1", "Lead planner")
    with world.unit_of_work() as uow:
        stored = transfers.manifest(
            uow, rt, m.id, [mother, *kids], T0, lead, [Safeguard.LEGAL_REVIEW], "court order 12/2026"
        )
        uow.commit()
    overridden = [s.event for s in stored if s.event.detail("override")]
    assert [(e.person_id, e.detail("override"), e.detail("override_by")) for e in overridden] == [
        (kids[1], "legal-review", "lead-1")
    ]
    with world.unit_of_work(read_only=True) as uow:
        (override,) = reconciliation.report(uow, m.id).overrides
        assert (override.actor_name, override.reason) == ("Lead planner", "court order 12/2026")


def test_capacity_and_seats_count_people_already_heading_there(world: Database, rt) -> None:  # type: ignore[no-untyped-def]
    # Karkh has 60 places for men; the helicopter route seats 40.
    people = _register(world, rt, [NewPerson(man(n), "ghweran") for n in range(70)])
    with world.unit_of_work() as uow:
        clear(uow, rt, people, T0)
        first = transfers.create_movement(uow, rt, "H-1", "ghweran-karkh", T0)
        second = transfers.create_movement(uow, rt, "H-2", "ghweran-karkh", T0)
        transfers.manifest(uow, rt, first.id, people[:40], T0)
        uow.commit()
    with world.unit_of_work() as uow, pytest.raises(ConflictError) as seats:
        transfers.manifest(uow, rt, first.id, people[40:41], T0)
    assert seats.value.rule == "seats" and seats.value.subject == people[40]
    with world.unit_of_work() as uow, pytest.raises(ConflictError) as capacity:
        transfers.manifest(uow, rt, second.id, people[40:70], T0)
    # 40 already heading to Karkh: the 21st of this request is the 61st place.
    assert capacity.value.rule == "destination-capacity" and capacity.value.subject == people[60]
    with world.unit_of_work(read_only=True) as uow:
        breaches = transfers.check_manifest(uow, second.id, people[40:70])
        assert {b.safeguard for b in breaches} == {Safeguard.CAPACITY}


def test_boarding_departure_and_admission_refusals(world: Database, rt) -> None:  # type: ignore[no-untyped-def]
    people = _register(world, rt, [NewPerson(man(n), "ghweran") for n in range(4)])
    with world.unit_of_work() as uow:
        clear(uow, rt, people, T0)
        m = transfers.create_movement(uow, rt, "M-1", "ghweran-karkh", T0)
        other = transfers.create_movement(uow, rt, "M-2", "ghweran-karkh", T0)
        transfers.approve(uow, m.id)
        transfers.manifest(uow, rt, m.id, people[:3], T0)
        transfers.manifest(uow, rt, other.id, people[3:], T0)
        transfers.board(uow, rt, m.id, people[:2], T0)
        uow.commit()

    def conflict(action) -> ConflictError:  # type: ignore[no-untyped-def]
        before = _size(world)
        with world.unit_of_work() as uow, pytest.raises(ConflictError) as caught:
            action(uow)
            uow.commit()
        assert _size(world) == before
        return caught.value

    assert conflict(lambda uow: transfers.board(uow, rt, m.id, people[:1], T0)).rule == "already-boarded"
    assert conflict(lambda uow: transfers.board(uow, rt, m.id, people[3:], T0)).rule == "not-on-manifest"
    left = conflict(lambda uow: transfers.depart(uow, rt, m.id, T0))
    assert (left.rule, left.subject) == ("not-boarded", people[2])
    with world.unit_of_work() as uow:
        transfers.unmanifest(uow, rt, m.id, people[2:3], "refused to travel: stays at the origin", T0)
        transfers.depart(uow, rt, m.id, T0 + HOUR)
        uow.commit()
    frozen = conflict(lambda uow: transfers.manifest(uow, rt, m.id, people[2:3], T0))
    assert frozen.rule == "manifest-frozen"
    assert conflict(lambda uow: transfers.depart(uow, rt, m.id, T0 + HOUR)).rule == "previous-leg-en-route"
    with world.unit_of_work() as uow:
        transfers.arrive(uow, rt, m.id, T0 + 2 * HOUR)
        board_and_depart(uow, rt, m.id, T0 + 3 * HOUR)
        transfers.arrive(uow, rt, m.id, T0 + 4 * HOUR)
        uow.commit()
    # Not handed over to the prison's authority yet: the custody rule refuses the admission.
    with world.unit_of_work() as uow, pytest.raises(RefusedError) as custodian:
        transfers.admit(uow, rt, m.id, T0 + 5 * HOUR)
    assert custodian.value.refused.rule is Rule.CUSTODIAN_MISMATCH
    stranger = conflict(lambda uow: transfers.admit(uow, rt, m.id, T0, person_ids=people[3:]))
    assert (stranger.rule, stranger.subject) == ("not-on-arriving-manifest", people[3])
    unaccounted = conflict(lambda uow: reconciliation.reconcile(uow, m.id))
    assert unaccounted.rule == "unaccounted" and unaccounted.subject in people[:2]


def test_two_intake_officers_admit_the_same_person_at_once(world: Database, rt) -> None:  # type: ignore[no-untyped-def]
    people = _register(world, rt, [NewPerson(man(n), "ghweran") for n in range(2)])
    with world.unit_of_work() as uow:
        clear(uow, rt, people, T0)
        m = transfers.create_movement(uow, rt, "M-1", "ghweran-karkh", T0)
        transfers.approve(uow, m.id)
        transfers.manifest(uow, rt, m.id, people, T0)
        board_and_depart(uow, rt, m.id, T0)
        hand_over(uow, rt, m.id, "sy-moi", "iq-moj", "ghweran", T0)
        transfers.arrive(uow, rt, m.id, T0 + HOUR)
        board_and_depart(uow, rt, m.id, T0 + HOUR)
        transfers.arrive(uow, rt, m.id, T0 + 2 * HOUR)
        uow.commit()
    first_admitted = threading.Event()
    outcomes: dict[str, object] = {}

    def officer(name: str, wait_for: threading.Event | None) -> None:
        if wait_for is not None:
            wait_for.wait(10)
        try:
            with world.unit_of_work() as uow:
                transfers.admit(uow, rt, m.id, T0 + 3 * HOUR, person_ids=people[:1])
                if wait_for is None:
                    first_admitted.set()  # the second officer now starts while this transaction is still open
                    threading.Event().wait(0.2)
                uow.commit()
            outcomes[name] = "admitted"
        except RefusedError as refused:
            outcomes[name] = ("refused", refused.refused.person_id)
        except ConflictError as conflict:
            outcomes[name] = ("refused", conflict.subject)
        finally:
            first_admitted.set()

    threads = [
        threading.Thread(target=officer, args=("a", None)),
        threading.Thread(target=officer, args=("b", first_admitted)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # The second officer's request is decided after the first one's commits (a row lock on PostgreSQL, the single
    # writer on SQLite), so it sees the person already admitted and is refused, naming them.
    assert outcomes == {"a": "admitted", "b": ("refused", people[0])}
    with world.unit_of_work(read_only=True) as uow:
        chain = [s.event.type for s in uow.custody.chain(people[0])]
        assert chain.count(EventType.ADMITTED) == 1
