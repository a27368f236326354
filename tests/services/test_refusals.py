"""Every refusal through the services: it names the person, the rule and the state, and nothing is written."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handover.core.custody import RefusedError, Rule
from handover.core.custody import commands as c
from handover.services import custody, transfers
from handover.services.errors import ConflictError, NotFoundError
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import SimulatedClock, seeded_runtime
from handover.store.uow import Database
from tests.factories import KARKH, T0, child, man, woman
from tests.journeys import board_and_depart, clear


@pytest.fixture
def rt():  # type: ignore[no-untyped-def]
    return seeded_runtime(11, SimulatedClock(T0))


def _people(db: Database, rt, count: int = 3) -> list[str]:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as uow:
        stored = register_people(uow, rt, [NewPerson(man(i), "ghweran") for i in range(count)], T0)
        uow.commit()
    return [s.event.person_id for s in stored]


def _size(db: Database) -> int:
    with db.unit_of_work() as uow:
        return uow.custody.size()


def _refused(db: Database, action, rule: Rule, person: str) -> str:  # type: ignore[no-untyped-def]
    before = _size(db)
    with db.unit_of_work() as uow, pytest.raises(RefusedError) as caught:
        action(uow)
        uow.commit()
    refusal = caught.value.refused
    assert (refusal.rule, refusal.person_id) == (rule, person)
    assert person in refusal.message and refusal.state in refusal.message
    assert _size(db) == before
    return refusal.message


def test_manifest_of_a_person_not_at_the_origin(world: Database, rt) -> None:  # type: ignore[no-untyped-def]
    with world.unit_of_work() as uow:
        (mother,) = register_people(uow, rt, [NewPerson(woman(), "al-hol")], T0)
        uow.commit()
    pid = mother.event.person_id
    with world.unit_of_work() as uow:
        m = transfers.create_movement(uow, rt, "M-1", "ghweran-karkh", T0)
        uow.commit()
    message = _refused(world, lambda uow: transfers.manifest(uow, rt, m.id, [pid], T0), Rule.NOT_AT_ORIGIN, pid)
    assert "held at al-hol" in message


def test_admission_without_arrival(world: Database, rt) -> None:  # type: ignore[no-untyped-def]
    people = _people(world, rt)
    admit = c.Admit(
        person_id=people[1], event_id=rt.new_id(), occurred_at=T0, recorded_at=T0, facility=KARKH, authority_id="iq-moj"
    )
    _refused(world, lambda uow: custody.record(uow, [admit]), Rule.ADMISSION_WITHOUT_ARRIVAL, people[1])


def test_handover_by_an_authority_that_does_not_hold_the_people(world: Database, rt) -> None:  # type: ignore[no-untyped-def]
    people = _people(world, rt, 2)
    handovers = [
        c.HandOver(
            person_id=p,
            event_id=rt.new_id(),
            occurred_at=T0,
            recorded_at=T0,
            from_authority_id="us-centcom",
            to_authority_id="iq-moj",
        )
        for p in sorted(people)
    ]
    _refused(world, lambda uow: custody.record(uow, handovers), Rule.CUSTODIAN_MISMATCH, min(people))


def test_registering_twice(world: Database, rt) -> None:  # type: ignore[no-untyped-def]
    (pid,) = _people(world, rt, 1)
    again = NewPerson(man(1), "ghweran", person_id=pid)
    _refused(world, lambda uow: register_people(uow, rt, [again], T0), Rule.ALREADY_REGISTERED, pid)


def test_a_minor_cannot_be_registered_in_a_mens_prison(world: Database, rt) -> None:  # type: ignore[no-untyped-def]
    with world.unit_of_work() as uow:
        (mother,) = register_people(uow, rt, [NewPerson(woman(), "al-hol")], T0)
        uow.commit()
    kid = NewPerson(child(mother.event.person_id), "ghweran", person_id="kid-1")
    _refused(world, lambda uow: register_people(uow, rt, [kid], T0), Rule.ESTATE_NOT_HELD, "kid-1")


def test_nothing_after_death(world: Database, rt) -> None:  # type: ignore[no-untyped-def]
    (pid,) = _people(world, rt, 1)
    with world.unit_of_work() as uow:
        custody.record(uow, [c.Die(person_id=pid, event_id=rt.new_id(), occurred_at=T0, recorded_at=T0)])
        uow.commit()
    escape = c.Escape(person_id=pid, event_id=rt.new_id(), occurred_at=T0, recorded_at=T0)
    _refused(world, lambda uow: custody.record(uow, [escape]), Rule.TERMINAL, pid)


def test_recapture_only_after_escape(world: Database, rt) -> None:  # type: ignore[no-untyped-def]
    (pid,) = _people(world, rt, 1)
    from tests.factories import GHWERAN

    recapture = c.Recapture(
        person_id=pid, event_id=rt.new_id(), occurred_at=T0, recorded_at=T0, facility=GHWERAN, authority_id="sy-moi"
    )
    _refused(world, lambda uow: custody.record(uow, [recapture]), Rule.RECAPTURE_ONLY_AFTER_ESCAPE, pid)


def test_a_correction_must_name_an_event_of_the_person(world: Database, rt) -> None:  # type: ignore[no-untyped-def]
    a, b = _people(world, rt, 2)
    with world.unit_of_work() as uow:
        other_event = uow.custody.chain(b)[0].event.event_id
    _refused(world, lambda uow: custody.correct(uow, rt, a, other_event, "typo"), Rule.CORRECTION_TARGET_UNKNOWN, a)


def test_the_same_person_twice_in_one_request(world: Database, rt) -> None:  # type: ignore[no-untyped-def]
    people = _people(world, rt, 2)
    with world.unit_of_work() as uow:
        m = transfers.create_movement(uow, rt, "M-1", "ghweran-karkh", T0)
        uow.commit()
    _refused(
        world,
        lambda uow: transfers.manifest(uow, rt, m.id, [people[0], people[0]], T0),
        Rule.DUPLICATE_PERSON,
        people[0],
    )


def test_movement_level_refusals_name_the_movement_and_its_state(world: Database, rt) -> None:  # type: ignore[no-untyped-def]
    people = _people(world, rt, 2)
    with world.unit_of_work() as uow:
        m = transfers.create_movement(uow, rt, "M-1", "ghweran-karkh", T0)
        uow.commit()
    with world.unit_of_work() as uow, pytest.raises(ConflictError) as caught:
        transfers.depart(uow, rt, m.id, T0)  # still a draft: not approved
    assert (caught.value.subject, caught.value.state) == ("M-1", "draft")
    with world.unit_of_work() as uow:
        clear(uow, rt, people, T0)
        transfers.approve(uow, m.id)
        transfers.manifest(uow, rt, m.id, people[:1], T0)
        board_and_depart(uow, rt, m.id, T0 + timedelta(hours=1))
        uow.commit()
    with world.unit_of_work() as uow, pytest.raises(ConflictError) as caught:
        transfers.manifest(uow, rt, m.id, people[1:], T0)
    assert caught.value.rule == "manifest-frozen" and "in_progress" in caught.value.message
    with world.unit_of_work() as uow, pytest.raises(ConflictError):
        transfers.create_movement(uow, rt, "M-1", "ghweran-karkh", T0)


def test_unknown_things_are_not_found(world: Database, rt) -> None:  # type: ignore[no-untyped-def]
    with world.unit_of_work() as uow:
        with pytest.raises(NotFoundError):
            transfers.create_movement(uow, rt, "M-9", "no-such-route", T0)
        with pytest.raises(NotFoundError):
            register_people(uow, rt, [NewPerson(man(), "atlantis")], T0)
        with pytest.raises(NotFoundError):
            custody.correct(uow, rt, "nobody", "e1", "x")
