"""Repatriation cases: a country of origin asked to take back one of its nationals, worked to the end.

Planners and the country's diplomats move cases through the states of `handover.core.repatriation.cases`; each step
is kept (who, when, why) in the case's append-only history. Requests to a country group cases with a date and
notes. Documents (PDF, PNG, JPEG, 5 MB at most) are checked by their bytes and stored by content hash.

A repatriation is carried out as a movement whose signed handover passes custody to the country's authority:
`complete` checks that, then records the custody events (admission by the country's authority where the movement
brought the person, and `repatriated`) and closes the case, all in one transaction.

Every function takes the principal acting: a case outside its scope is reported as not existing (404); one it may
see but not change is refused as forbidden.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime

from handover.core.custody import EventType, Status
from handover.core.custody import commands as c
from handover.core.custody.model import AuthorityKind
from handover.core.custody.movements import MovementState
from handover.core.custody.state import TERMINAL
from handover.core.policy.access import (
    Action,
    Principal,
    Resource,
    actor_for,
    countries_in_scope,
    country_in_scope,
    movement_in_scope,
)
from handover.core.policy.permissions import Permission
from handover.core.repatriation import documents as docs
from handover.core.repatriation.cases import (
    LEAVING,
    CaseAction,
    CaseRefused,
    CaseState,
    CountrySummary,
    decide,
    summarise,
)
from handover.i18n import _
from handover.services import reference
from handover.services.access import ForbiddenError, require
from handover.services.custody import record
from handover.services.errors import ConflictError, NotFoundError
from handover.services.ports import (
    AccountsUnitOfWork,
    BlobStore,
    CaseDocument,
    CaseEvent,
    RepatriationCase,
    RepatriationRequest,
    StoredEvent,
)
from handover.services.runtime import Runtime
from handover.services.scope import movement_facts, visible_person

OPEN_ACTION = "open"
_SCHEDULABLE = frozenset({MovementState.DRAFT, MovementState.APPROVED})


class CaseRefusedError(ConflictError):
    """A case cannot take an action in its state: names the case, the rule and the state; nothing was written."""

    def __init__(self, refused: CaseRefused) -> None:
        super().__init__(refused.case_id, refused.rule.value, refused.state.value, refused.message)
        self.refused = refused


# --- scope ----------------------------------------------------------------------------------------------------------


def _forbidden(principal: Principal, what: str) -> ForbiddenError:
    return ForbiddenError(
        principal.account_id or principal.name,
        "permission-required",
        "forbidden",
        _("{actor} may not {what}.").format(actor=principal.name, what=what),
    )


def _no_case(case_id: str) -> NotFoundError:
    return NotFoundError("case", case_id, _("No repatriation case {id}.").format(id=case_id))


def _visible(
    uow: AccountsUnitOfWork,
    principal: Principal,
    case_id: str,
    action: Action = Action.READ,
    resource: Resource = Resource.REPATRIATION,
) -> RepatriationCase:
    """The case if the principal may see it (else not found) and, for a write, change it (else forbidden)."""
    found = uow.repatriation.case(case_id)
    if found is None or not country_in_scope(principal, found.country, resource, Action.READ):
        raise _no_case(case_id)
    if action is Action.WRITE and not country_in_scope(principal, found.country, resource, Action.WRITE):
        raise _forbidden(principal, _("change this case"))
    return found


def _may_write(principal: Principal, country: str, resource: Resource = Resource.REPATRIATION) -> None:
    if not country_in_scope(principal, country, resource, Action.WRITE):
        raise _forbidden(principal, _("work repatriation cases of {country}").format(country=country))


# --- reading --------------------------------------------------------------------------------------------------------


def case(uow: AccountsUnitOfWork, principal: Principal, case_id: str) -> RepatriationCase:
    return _visible(uow, principal, case_id)


def cases(
    uow: AccountsUnitOfWork,
    principal: Principal,
    country: str | None = None,
    states: Iterable[CaseState | str] | None = None,
) -> list[RepatriationCase]:
    """The cases the principal may see, of one country or all, in some states or all."""
    allowed = countries_in_scope(principal, Resource.REPATRIATION, Action.READ)
    wanted = [CaseState(s).value for s in states] if states is not None else None
    if allowed is not None and (not allowed or (country is not None and country not in allowed)):
        return []
    return uow.repatriation.cases(country=country, states=wanted, countries=allowed)


def history(uow: AccountsUnitOfWork, principal: Principal, case_id: str) -> list[CaseEvent]:
    return uow.repatriation.case_events(_visible(uow, principal, case_id).id)


def requests(uow: AccountsUnitOfWork, principal: Principal, country: str) -> list[RepatriationRequest]:
    if not country_in_scope(principal, country, Resource.REPATRIATION, Action.READ):
        return []
    return uow.repatriation.requests(country)


def accepted_person_ids(uow: AccountsUnitOfWork) -> set[str]:
    """People a country has agreed to take back (accepted or scheduled): the planner treats them as leaving, and
    plans no other movement for them."""
    return uow.repatriation.person_ids_in(s.value for s in LEAVING)


def country_summary(uow: AccountsUnitOfWork, principal: Principal, country: str, now: datetime) -> CountrySummary:
    """Counts per state and time in state of one country's cases."""
    if not country_in_scope(principal, country, Resource.REPATRIATION, Action.READ):
        raise NotFoundError("country", country, _("No repatriation cases for {country}.").format(country=country))
    found = uow.repatriation.cases(country=country)
    return summarise(country, ((CaseState(x.state), x.state_since) for x in found), now)


def summaries(uow: AccountsUnitOfWork, principal: Principal, now: datetime) -> list[CountrySummary]:
    """One summary per country with cases that the principal may see, by country code."""
    by_country: dict[str, list[RepatriationCase]] = {}
    for found in cases(uow, principal):
        by_country.setdefault(found.country, []).append(found)
    return [
        summarise(country, ((CaseState(x.state), x.state_since) for x in found), now)
        for country, found in sorted(by_country.items())
    ]


# --- changing cases -------------------------------------------------------------------------------------------------


def _step(
    uow: AccountsUnitOfWork,
    rt: Runtime,
    principal: Principal,
    found: RepatriationCase,
    action: CaseAction,
    reason: str = "",
    **changes: object,
) -> RepatriationCase:
    state = CaseState(found.state)
    decision = decide(found.id, state, action, reason)
    if isinstance(decision, CaseRefused):
        raise CaseRefusedError(decision)
    now = rt.clock()
    moved = replace(found, state=decision.value, state_since=now, **changes)  # type: ignore[arg-type]
    uow.repatriation.update_case(moved)
    uow.repatriation.add_case_event(
        CaseEvent(rt.new_id(), found.id, action.value, state.value, decision.value, now, principal.account_id, reason)
    )
    return moved


def _country_authority(uow: AccountsUnitOfWork, country: str) -> str | None:
    """The country's own authority (kind country of origin), when there is exactly one."""
    found = [
        a.id for a in uow.reference.authorities() if a.country == country and a.kind is AuthorityKind.COUNTRY_OF_ORIGIN
    ]
    return found[0] if len(found) == 1 else None


def open_case(
    uow: AccountsUnitOfWork, rt: Runtime, principal: Principal, person_id: str, country: str, note: str = ""
) -> RepatriationCase:
    """A case for a national of `country` in custody: `identified`."""
    country = country.strip().upper()
    _may_write(principal, country)
    person = visible_person(uow, principal, person_id)
    if country not in person.identity.nationalities:
        raise ConflictError(
            person_id,
            "not-a-national",
            ",".join(person.identity.nationalities),
            _("Person {person} is not a national of {country} (nationalities: {nationalities}).").format(
                person=person_id, country=country, nationalities=", ".join(person.identity.nationalities) or "-"
            ),
        )
    existing = uow.repatriation.case_for(person_id, country)
    if existing is not None:
        raise ConflictError(
            existing.id,
            "case-exists",
            existing.state,
            _("Person {person} already has a case with {country} ({case}, {state}).").format(
                person=person_id, country=country, case=existing.id, state=existing.state
            ),
        )
    current = uow.custody.current(person_id)
    if current is not None and current.state.status in TERMINAL:
        raise ConflictError(
            person_id,
            "not-in-custody",
            current.state.status.value,
            _("Person {person} is {state}: there is nobody to repatriate.").format(
                person=person_id, state=current.state.describe()
            ),
        )
    now = rt.clock()
    new = RepatriationCase(
        id=rt.new_id(),
        person_id=person_id,
        country=country,
        state=CaseState.IDENTIFIED.value,
        state_since=now,
        opened_at=now,
        authority_id=_country_authority(uow, country),
    )
    uow.repatriation.add_case(new)
    uow.repatriation.add_case_event(
        CaseEvent(rt.new_id(), new.id, OPEN_ACTION, None, new.state, now, principal.account_id, note.strip())
    )
    return new


def act(
    uow: AccountsUnitOfWork,
    rt: Runtime,
    principal: Principal,
    case_id: str,
    action: CaseAction | str,
    reason: str = "",
) -> RepatriationCase:
    """Open talks, accept, refuse, withdraw, reopen or postpone a case (with a reason where the step needs one).
    Requests go through `send_request`, scheduling through `schedule`, completion through `complete`."""
    chosen = CaseAction(action)
    found = _visible(uow, principal, case_id, Action.WRITE)
    if chosen in (CaseAction.REQUEST, CaseAction.SCHEDULE, CaseAction.COMPLETE):
        raise ValueError(f"{chosen.value} a case through its own service function")
    if chosen is CaseAction.POSTPONE:
        return _step(uow, rt, principal, found, chosen, reason, movement_id=None, scheduled_for=None)
    return _step(uow, rt, principal, found, chosen, reason)


def send_request(
    uow: AccountsUnitOfWork,
    rt: Runtime,
    principal: Principal,
    country: str,
    case_ids: Sequence[str],
    sent_on: date,
    reference_text: str = "",
    notes: str = "",
) -> RepatriationRequest:
    """Ask `country` to take back the people of these cases: identified cases become requested; cases already
    requested or in talks may be named again (a reminder)."""
    country = country.strip().upper()
    _may_write(principal, country)
    unique = list(dict.fromkeys(case_ids))
    if not unique:
        raise ValueError(_("A request names at least one case."))
    found = [_visible(uow, principal, case_id, Action.WRITE) for case_id in unique]
    for x in found:
        if x.country != country:
            raise ConflictError(
                x.id,
                "case-of-another-country",
                x.state,
                _("Case {case} is with {theirs}, not {country}.").format(case=x.id, theirs=x.country, country=country),
            )
    for x in found:
        if x.state in (CaseState.REQUESTED.value, CaseState.IN_TALKS.value):
            continue
        _step(uow, rt, principal, x, CaseAction.REQUEST, notes.strip())
    request = RepatriationRequest(
        id=rt.new_id(),
        country=country,
        sent_on=sent_on,
        reference=reference_text.strip()[:200],
        notes=notes.strip(),
        created_at=rt.clock(),
        created_by=principal.account_id,
        case_ids=tuple(sorted(x.id for x in found)),
    )
    uow.repatriation.add_request(request)
    return request


def schedule(
    uow: AccountsUnitOfWork,
    rt: Runtime,
    principal: Principal,
    case_id: str,
    movement_id: str,
    on: datetime,
    authority_id: str | None = None,
) -> RepatriationCase:
    """An accepted case is to be carried out by `movement_id` (draft or approved), handing the person over to the
    country's `authority_id` (the case's, when not given)."""
    found = _visible(uow, principal, case_id, Action.WRITE)
    movement = uow.movements.get(movement_id) or uow.movements.by_code(movement_id)
    if movement is None:
        raise NotFoundError("movement", movement_id, _("No movement {id}.").format(id=movement_id))
    if movement.state not in _SCHEDULABLE:
        raise ConflictError(
            found.id,
            "movement-not-schedulable",
            found.state,
            _("Movement {code} is {state}: a repatriation can only be scheduled on a draft or approved one.").format(
                code=movement.code, state=movement.state.value
            ),
        )
    receiving = authority_id or found.authority_id
    if receiving is None:
        raise ConflictError(
            found.id,
            "receiving-authority-required",
            found.state,
            _("Name the authority of {country} that receives the person.").format(country=found.country),
        )
    authority = reference.authority(uow, receiving)
    if authority.country != found.country:
        raise ConflictError(
            found.id,
            "authority-of-another-country",
            found.state,
            _("Authority {authority} is of {theirs}; case {case} is with {country}.").format(
                authority=authority.id, theirs=authority.country or "-", case=found.id, country=found.country
            ),
        )
    return _step(
        uow,
        rt,
        principal,
        found,
        CaseAction.SCHEDULE,
        movement_id=movement.id,
        scheduled_for=on,
        authority_id=authority.id,
    )


def complete(
    uow: AccountsUnitOfWork, rt: Runtime, principal: Principal, case_id: str, occurred_at: datetime
) -> tuple[RepatriationCase, list[StoredEvent]]:
    """The person of a scheduled case was handed over to the country's authority by a signed handover on the
    case's movement: record their repatriation (admitted by that authority where the movement brought them, then
    `repatriated`) and close the case. Recorded by whoever runs movements: the escort of the case's movement sees
    the case for this even without access to repatriation cases."""
    found = uow.repatriation.case(case_id)
    facts = movement_facts(uow, found.movement_id) if found is not None and found.movement_id else None
    escorting = facts is not None and movement_in_scope(principal, facts, Resource.MOVEMENT, Action.WRITE)
    if found is None or not (escorting or country_in_scope(principal, found.country, Resource.REPATRIATION)):
        raise _no_case(case_id)
    require(actor_for(principal), Permission.RUN_MOVEMENTS)
    decision = decide(found.id, CaseState(found.state), CaseAction.COMPLETE)
    if isinstance(decision, CaseRefused):
        raise CaseRefusedError(decision)
    assert found.authority_id is not None and found.movement_id is not None  # set when scheduled
    state = uow.custody.states([found.person_id]).get(found.person_id)
    described = state.describe() if state is not None else _("not registered")
    if state is None or state.custodian_id != found.authority_id or not _signed_over(uow, found):
        raise ConflictError(
            found.id,
            "not-handed-over",
            found.state,
            _(
                "Case {case}: person {person} has not been handed over to {authority} by a signed handover on the "
                "case's movement (the person is {described})."
            ).format(case=found.id, person=found.person_id, authority=found.authority_id, described=described),
        )
    now = rt.clock()
    commands: list[c.Command] = []
    if state.status is Status.ARRIVED and state.facility_id is not None:
        facility = reference.facility(uow, state.facility_id)
        commands.append(
            c.Admit(
                person_id=found.person_id,
                event_id=rt.new_id(),
                occurred_at=occurred_at,
                recorded_at=now,
                facility=facility,
                authority_id=found.authority_id,
            )
        )
    elif state.status is not Status.HELD or state.movement_id is not None:
        raise ConflictError(
            found.id,
            "not-arrived",
            found.state,
            _("Case {case}: person {person} is {described}; record the movement's arrival first.").format(
                case=found.id, person=found.person_id, described=described
            ),
        )
    commands.append(
        c.Repatriate(
            person_id=found.person_id,
            event_id=rt.new_id(),
            occurred_at=occurred_at,
            recorded_at=now,
            to_authority_id=found.authority_id,
            country=found.country,
        )
    )
    events = record(uow, commands)
    closed = _step(uow, rt, principal, found, CaseAction.COMPLETE)
    return closed, events


def _signed_over(uow: AccountsUnitOfWork, found: RepatriationCase) -> bool:
    """Whether the person's custody passed to the case's authority by a complete, signed handover on its movement."""
    for stored in reversed(uow.custody.chain(found.person_id)):
        event = stored.event
        if event.type is not EventType.HANDED_OVER or event.authority_id != found.authority_id:
            continue
        handover_id = event.detail("handover")
        if handover_id is None:
            return False
        signed = uow.operations.handover(handover_id)
        return (
            signed is not None
            and signed.state == "complete"
            and signed.movement_id == found.movement_id
            and found.person_id in json.loads(signed.document)["people"]
        )
    return False


# --- documents ------------------------------------------------------------------------------------------------------


def attach_document(
    uow: AccountsUnitOfWork,
    rt: Runtime,
    principal: Principal,
    blobs: BlobStore,
    case_id: str,
    data: bytes,
    title: str,
    declared_type: str | None = None,
) -> CaseDocument:
    """Attach a PDF, PNG or JPEG (checked by its bytes, at most 5 MB) to a case; stored by its content hash."""
    found = _visible(uow, principal, case_id, Action.WRITE, Resource.DOCUMENT)
    checked = docs.check(data, declared_type)
    if isinstance(checked, docs.DocumentRefused):
        raise ConflictError(found.id, checked.rule.value, found.state, checked.message)
    if not title.strip():
        raise ValueError(_("A document needs a title saying what it is."))
    digest = blobs.put(data)
    document = CaseDocument(
        id=rt.new_id(),
        case_id=found.id,
        sha256=digest,
        media_type=checked.media_type.value,
        size=checked.size,
        title=title.strip()[:200],
        uploaded_at=rt.clock(),
        uploaded_by=principal.account_id,
    )
    uow.repatriation.add_document(document)
    return document


def documents(uow: AccountsUnitOfWork, principal: Principal, case_id: str) -> list[CaseDocument]:
    found = _visible(uow, principal, case_id, Action.READ, Resource.DOCUMENT)
    return uow.repatriation.documents(found.id)


def document_content(
    uow: AccountsUnitOfWork, principal: Principal, blobs: BlobStore, document_id: str
) -> tuple[CaseDocument, bytes]:
    """A document and its bytes (to serve with its stored media type, as an attachment)."""
    found = uow.repatriation.document(document_id)
    if found is None:
        raise NotFoundError("document", document_id, _("No document {id}.").format(id=document_id))
    try:
        _visible(uow, principal, found.case_id, Action.READ, Resource.DOCUMENT)
    except NotFoundError:
        raise NotFoundError("document", document_id, _("No document {id}.").format(id=document_id)) from None
    return found, blobs.get(found.sha256)
