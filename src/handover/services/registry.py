"""Registering people: an identity record in the registry and a `registered` event, committed together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from handover.core.custody import RefusedError
from handover.core.custody import commands as c
from handover.core.custody.identity import Identity, commitment
from handover.core.custody.refusals import Refused, Rule
from handover.i18n import _
from handover.services import reference
from handover.services.custody import record, refuse_duplicates
from handover.services.ports import PersonRecord, StoredEvent, UnitOfWork
from handover.services.runtime import Runtime


@dataclass(frozen=True, slots=True)
class NewPerson:
    """Someone to register. `person_id` may be given (to link children to a mother in the same batch)."""

    identity: Identity
    facility_id: str
    custodian_id: str | None = None
    person_id: str | None = None


def register_people(
    uow: UnitOfWork, rt: Runtime, people: Sequence[NewPerson], occurred_at: datetime
) -> list[StoredEvent]:
    ids = [p.person_id or rt.new_id() for p in people]
    refuse_duplicates(ids, _("registration"))
    known = uow.persons.existing(ids) | uow.persons.existing(
        {p.identity.mother_id for p in people if p.identity.mother_id}
    )
    batch: set[str] = set()
    facilities = {}
    custodians: set[str] = set()
    records = []
    commands = []
    recorded_at = rt.clock()
    for person_id, person in zip(ids, people, strict=True):
        mother = person.identity.mother_id
        if mother is not None and mother not in known and mother not in batch:
            raise RefusedError(
                Refused(
                    person_id,
                    Rule.UNKNOWN_REFERENCE,
                    _("not registered"),
                    _("Person {person} cannot be registered: mother {mother} is not registered.").format(
                        person=person_id, mother=mother
                    ),
                )
            )
        batch.add(person_id)
        if person.facility_id not in facilities:
            facilities[person.facility_id] = reference.facility(uow, person.facility_id)
        facility = facilities[person.facility_id]
        custodian = person.custodian_id or facility.authority_id
        if custodian not in custodians:
            reference.authority(uow, custodian)  # NotFoundError: an unknown custodian must never reach the log
            custodians.add(custodian)
        salt = rt.new_salt()
        commit = commitment(person.identity, salt)
        estate = person.identity.estate_on(occurred_at.date())
        records.append(PersonRecord(person_id, person.identity, estate.value, salt.hex(), commit))
        commands.append(
            c.Register(
                person_id=person_id,
                event_id=rt.new_id(),
                occurred_at=occurred_at,
                recorded_at=recorded_at,
                facility=facility,
                custodian_id=custodian,
                estate=estate,
                identity_commitment=commit,
            )
        )
    # Refusals for already-registered people come from the custody machine, before any row is written.
    new_records = [r for r in records if r.id not in known]
    uow.persons.add(new_records)
    return record(uow, commands)
