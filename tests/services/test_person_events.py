"""Recording one person's events through the service: what a request needs, and refusals that write nothing."""

from __future__ import annotations

from datetime import datetime

import pytest

from handover.core.custody import RefusedError, Rule
from handover.services.errors import NotFoundError
from handover.services.person_events import EventRequest, PersonEventType, record_event
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import SimulatedClock, seeded_runtime
from handover.store.uow import Database
from tests.factories import T0, man


def test_a_request_names_its_type_as_text_or_enum() -> None:
    assert EventRequest(type="died", occurred_at=T0).type is PersonEventType.DIED
    assert EventRequest(type=PersonEventType.DIED, occurred_at=T0).type is PersonEventType.DIED


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"type": "manifested"}, "manifested is not an event"),
        ({"type": "died", "occurred_at": datetime(2026, 1, 21, 6, 0)}, "timezone"),
        ({"type": "recaptured"}, "needs facility_id"),
        ({"type": "notified", "channel": " "}, "needs channel"),
        ({"type": "died", "place": "Hasakah"}, "place does not apply"),
    ],
)
def test_invalid_requests_say_what_is_wrong(fields: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        EventRequest(**{"occurred_at": T0} | fields)  # type: ignore[arg-type]


def test_record_event_refuses_and_writes_nothing(world: Database) -> None:
    rt = seeded_runtime(3, SimulatedClock(T0))
    with world.unit_of_work() as uow:
        (registered,) = register_people(uow, rt, [NewPerson(man(), "ghweran")], T0)
        uow.commit()
    person = registered.event.person_id
    with world.unit_of_work() as uow:
        with pytest.raises(NotFoundError):
            record_event(uow, rt, "nobody", EventRequest(type="died", occurred_at=T0))
        stored = record_event(uow, rt, person, EventRequest(type="escaped", occurred_at=T0))
        assert (stored.seq, stored.event.recorded_at) == (1, T0)
        uow.commit()
    with world.unit_of_work() as uow, pytest.raises(RefusedError) as caught:
        record_event(uow, rt, person, EventRequest(type="released", reason="amnesty", occurred_at=T0))
    assert (caught.value.refused.rule, caught.value.refused.person_id) == (Rule.ESCAPED, person)
    with world.unit_of_work() as uow:
        assert uow.custody.size() == 2
