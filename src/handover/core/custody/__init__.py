"""The custody model: who holds whom, where, and which events may happen in which order."""

from handover.core.custody.events import CustodyEvent, EventType
from handover.core.custody.machine import apply, check, decide, fold
from handover.core.custody.model import Authority, Capacity, Estate, Facility, Sex
from handover.core.custody.refusals import Refused, RefusedError, Rule
from handover.core.custody.state import PersonState, Status

__all__ = [
    "Authority",
    "Capacity",
    "CustodyEvent",
    "Estate",
    "EventType",
    "Facility",
    "PersonState",
    "Refused",
    "RefusedError",
    "Rule",
    "Sex",
    "Status",
    "apply",
    "check",
    "decide",
    "fold",
]
