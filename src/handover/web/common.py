"""What the page modules share: units of work, names for ids, form parsing, and the one way pages write.

Pages stay thin: a read page opens a read-only unit of work and calls queries or services; a write parses the form,
checks the operator's sign-in and form token, calls one service in a unit of work, commits, then redirects (or
re-renders the page with the refusal, never a 500).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Protocol, TypeVar

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from handover.core.custody.model import Facility
from handover.core.custody.movements import Movement
from handover.core.policy.access import Action, Principal, Resource, Scope, movement_in_scope, person_filter, scopes
from handover.gate import needing
from handover.i18n import _, current_language
from handover.services import queries, scope
from handover.services.errors import NotFoundError
from handover.services.ports import AccountsUnitOfWork, UnitOfWork
from handover.services.runtime import Runtime
from handover.web.auth import write_refusal
from handover.web.refusals import SERVICE_ERRORS, Refusal, refusal_of
from handover.web.templating import templates

T = TypeVar("T")


class Database(Protocol):
    """What the app wiring puts on app.state.database: units of work (pages never import the store itself)."""

    def unit_of_work(self, read_only: bool = False) -> AccountsUnitOfWork: ...


def unit_of_work(request: Request) -> Iterator[AccountsUnitOfWork]:
    """One read-only unit of work per page; reads never commit, so it always rolls back."""
    database: Database = request.app.state.database
    with database.unit_of_work(read_only=True) as uow:
        yield uow


Uow = Annotated[AccountsUnitOfWork, Depends(unit_of_work)]


def writing(request: Request) -> AccountsUnitOfWork:
    """A unit of work that may write (the caller commits): `with writing(request) as uow:`."""
    database: Database = request.app.state.database
    return database.unit_of_work()


def reading(request: Request) -> AccountsUnitOfWork:
    """A read-only unit of work for rendering a page after a refused write: `with reading(request) as uow:`."""
    database: Database = request.app.state.database
    return database.unit_of_work(read_only=True)


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def redirect(url: str) -> RedirectResponse:
    """After a write: see the result with a GET (post/redirect/get)."""
    return RedirectResponse(url, status_code=303)


def not_found(request: Request, message: str) -> HTMLResponse:
    return render(request, "not_found.html", {"detail": message}, status_code=404)


@dataclass(frozen=True, slots=True)
class Attempt(Generic[T]):
    result: T | None
    refusal: Refusal | None


def attempt(request: Request, csrf: str, action: Callable[[UnitOfWork, Runtime], T]) -> Attempt[T]:
    """Run one write: the operator's sign-in and form token first, then `action` in a unit of work, committed only
    if it returns. A refusal writes nothing and comes back to be shown on the page."""
    refused = write_refusal(request, csrf)
    if refused is not None:
        return Attempt(None, refused)
    database: Database = request.app.state.database
    try:
        with database.unit_of_work() as uow:
            result = action(uow, runtime(request))
            uow.commit()
    except SERVICE_ERRORS as error:
        return Attempt(None, refusal_of(error))
    return Attempt(result, None)


# --- who may see what (rules 2 and 3 of need to know) ------------------------------------------------------------

# The declarations pages use most, as parameters that also give the principal they checked.
MovementReader = Annotated[Principal, needing(Resource.MOVEMENT, Action.READ)]
MovementWriter = Annotated[Principal, needing(Resource.MOVEMENT, Action.WRITE)]
PlanReader = Annotated[Principal, needing(Resource.PLAN, Action.READ)]
PlanWriter = Annotated[Principal, needing(Resource.PLAN, Action.WRITE)]


def scoped_movement(
    uow: UnitOfWork, who: Principal, ref: str, action: Action = Action.READ, resource: Resource = Resource.MOVEMENT
) -> Movement:
    """The movement (by code or id) if the principal may `action` its `resource`; out of scope raises exactly what
    an unknown movement raises, so asking never confirms that a movement exists."""
    found = uow.movements.get(ref) or uow.movements.by_code(ref)
    facts = scope.movement_facts(uow, found.id) if found is not None else None
    if found is None or facts is None or not movement_in_scope(who, facts, resource, action):
        raise NotFoundError("movement", ref, _("No movement {id}.").format(id=ref))
    return found


def movements_in_scope(
    uow: UnitOfWork, who: Principal, movements: Iterable[Movement], resource: Resource = Resource.MOVEMENT
) -> list[Movement]:
    """Of these movements, those the principal may read (a field officer's escorted ones, an intake officer's to or
    from their facility), in the order given."""
    if Scope.ALL in scopes(who.grants, resource, Action.READ):
        return list(movements)
    kept = []
    for m in movements:
        facts = scope.movement_facts(uow, m.id)
        if facts is not None and movement_in_scope(who, facts, resource, Action.READ):
            kept.append(m)
    return kept


def own_people(uow: UnitOfWork, who: Principal, person_ids: list[str]) -> list[str]:
    """The people a write names, refused (as unknown, like an absent id) when any is outside the principal's scope:
    a scoped officer typing someone else's id learns nothing from the refusal."""
    if person_filter(who):
        for person_id in person_ids:
            scope.visible_person(uow, who, person_id)
    return person_ids


# --- names for ids -------------------------------------------------------------------------------------------------


def facility_name(facility: Facility) -> str:
    if current_language() == "ar" and facility.name_ar:
        return facility.name_ar
    return facility.name


class Names:
    """Facility names, authority names and movement codes, for showing places and custodians by name."""

    def __init__(self, uow: UnitOfWork, movement_ids: Iterable[str | None] = ()) -> None:
        self.facilities = {f.id: facility_name(f) for f in uow.reference.facilities()}
        wanted = {m for m in movement_ids if m}
        self.codes = {m.id: m.code for m in queries.movements(uow) if m.id in wanted} if wanted else {}
        self._uow = uow
        self._authorities: dict[str, str] | None = None

    def facility(self, facility_id: str) -> str:
        return self.facilities.get(facility_id, facility_id)

    def movement(self, movement_id: str) -> str:
        return self.codes.get(movement_id, movement_id)

    def authority(self, authority_id: str) -> str:
        if self._authorities is None:
            self._authorities = {a.id: a.name for a in self._uow.reference.authorities()}
        return self._authorities.get(authority_id, authority_id)

    def place(self, facility_id: str | None, movement_id: str | None) -> str:
        if facility_id:
            return self.facility(facility_id)
        if movement_id:
            return _("on movement {code}").format(code=self.movement(movement_id))
        return ""


# --- form fields ---------------------------------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s,;]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_TEXT = 2000
MAX_ID = 64


def clean_text(value: str, what: str, limit: int = MAX_TEXT) -> str:
    """Free text from a form: no NUL or other control characters beyond line breaks, and bounded in length."""
    text = value.strip()
    if len(text) > limit:
        raise ValueError(_("{what} is longer than {limit} characters.").format(what=what, limit=limit))
    if _CONTROL.search(text.replace("\n", " ").replace("\r", " ").replace("\t", " ")):
        raise ValueError(_("{what} contains control characters.").format(what=what))
    return text


def clean_id(value: str, what: str) -> str:
    text = clean_text(value, what, MAX_ID)
    if _SEPARATORS.search(text):
        raise ValueError(_("{what} must not contain spaces or commas.").format(what=what))
    return text


def person_ids(*fields: str | Iterable[str]) -> list[str]:
    """Person ids from checkboxes and free text (one or many per field, separated by spaces, commas or new lines),
    in the order given, each once."""
    found: dict[str, None] = {}
    for field in fields:
        values = [field] if isinstance(field, str) else list(field)
        for value in values:
            for part in _SEPARATORS.split(value):
                if part:
                    found[clean_id(part, _("A person id"))] = None
    return list(found)


def noted_people(text: str, what: str) -> list[tuple[str, str]]:
    """Lines of `person-id: note` (or `person-id note`), for extra people and injuries at a handover."""
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        person, _sep, note = line.partition(":") if ":" in line else line.partition(" ")
        lines.append((clean_id(person, what), clean_text(note, what)))
    return lines


def parse_time(value: str, rt: Runtime) -> datetime:
    """A form's time: empty means now; a time without an offset is UTC (the forms say so)."""
    text = value.strip()
    if not text:
        return rt.clock()
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
    except ValueError:
        raise ValueError(
            _("{value} is not a date and time: use YYYY-MM-DD HH:MM, in UTC.").format(value=text[:40])
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def parse_int(value: str, what: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(_("{what} must be a whole number, not {value}.").format(what=what, value=text[:20])) from None


DEFAULT_NOTIFICATION_HOURS = 24


def notification_hours(request: Request) -> int:
    """Hours after admission within which a family must be told (app.state.notification_hours, else a day)."""
    hours = getattr(request.app.state, "notification_hours", None)
    return hours if isinstance(hours, int) and hours > 0 else DEFAULT_NOTIFICATION_HOURS
