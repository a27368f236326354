"""What the API's routes share: bounded field types, strict request bodies, and the answers they give back.

Ids and free text are bounded by the columns they end up in (64 characters for ids), and control characters are
refused: PostgreSQL rejects NUL in text, which would otherwise surface as a 500 for bad input.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, StringConstraints

from handover.api.problems import problem_response
from handover.api.routes import Event
from handover.core.custody.movements import Leg as LegRecord
from handover.services import queries
from handover.services.ports import StoredEvent

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=300, pattern=r"^[^\x00-\x1f\x7f]+$")]
Text = Annotated[str, StringConstraints(max_length=2000, pattern=r"^[^\x00]*$")]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
PathId = Annotated[str, Path(max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
MovementRef = Annotated[str, Path(max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$", description="Movement id or code.")]

# Times a database column can hold once turned to UTC (a year-9999 time with a negative offset cannot).
_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
_LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _storable(moment: datetime) -> datetime:
    try:
        inside = _EARLIEST <= moment < _LATEST
    except OverflowError:
        inside = False
    if not inside:
        raise ValueError("must be between 1900 and 2200")
    return moment


When = Annotated[AwareDatetime, AfterValidator(_storable)]

_NO_ACCOUNT = problem_response(
    "No account: no token and no session, or a token that is not valid (problem document; see WWW-Authenticate)."
)
_NOT_PERMITTED = problem_response(
    "The account's role, or its token, does not allow this (problem document with `rule` permission-required)."
)
# Every route that writes declares these answers.
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: problem_response("Bad request (problem document)."),
    401: _NO_ACCOUNT,
    403: _NOT_PERMITTED,
    404: problem_response(
        "A person, facility, authority, route, movement, leg, officer or handover does not exist, or is not in the "
        "account's scope (the same answer)."
    ),
    409: problem_response(
        "Refused by a custody rule (with `person_id`, `rule` and `state`) or by a rule about a movement, handover or "
        "safeguard (with `subject`, `rule` and `state`). Nothing was written."
    ),
    422: problem_response("The request is not valid (problem document with an `errors` list)."),
}
# Reads that need an account.
READ_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: problem_response("Bad request (problem document)."),
    401: _NO_ACCOUNT,
    403: _NOT_PERMITTED,
    404: problem_response("Not found, or not in the account's scope (the same problem document)."),
    422: problem_response("The request is not valid (problem document with an `errors` list)."),
}


class StrictModel(BaseModel):
    # A misspelt field is an error, not something to drop silently (it would leave part of the request unrecorded).
    model_config = ConfigDict(extra="forbid")


class EventList(BaseModel):
    events: list[Event]


def events(stored: list[StoredEvent]) -> dict[str, Any]:
    return {"events": [queries.event_dict(e) for e in stored]}


class Leg(BaseModel):
    id: str
    number: int
    from_id: str
    to_id: str
    mode: str
    escort_id: str
    vehicles: list[dict[str, Any]]
    seats: int
    scheduled_departure: str
    scheduled_arrival: str
    lodging: bool
    departed_at: str | None
    arrived_at: str | None
    state: str
    boarded: int | None = None


def leg_dict(leg: LegRecord, boarded: int | None = None) -> dict[str, Any]:
    return {
        "id": leg.id,
        "number": leg.number,
        "from_id": leg.from_id,
        "to_id": leg.to_id,
        "mode": leg.mode.value,
        "escort_id": leg.escort_id,
        "vehicles": [{"call_sign": v.call_sign, "seats": v.seats} for v in leg.vehicles],
        "seats": leg.seats,
        "scheduled_departure": leg.scheduled_departure.isoformat(),
        "scheduled_arrival": leg.scheduled_arrival.isoformat(),
        "lodging": leg.lodging,
        "departed_at": leg.departed_at.isoformat() if leg.departed_at else None,
        "arrived_at": leg.arrived_at.isoformat() if leg.arrived_at else None,
        "state": leg.state.value,
        "boarded": boarded,
    }
