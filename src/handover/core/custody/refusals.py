"""Why a command was refused: the person, the rule and the state, in words a user can act on."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Rule(StrEnum):
    """Stable codes for the custody rules; they name the rule in refusals and in API problem types."""

    NOT_REGISTERED = "not-registered"
    ALREADY_REGISTERED = "already-registered"
    TERMINAL = "nothing-after-death-or-release"
    ESCAPED = "escaped-person"
    RECAPTURE_ONLY_AFTER_ESCAPE = "recapture-only-after-escape"
    NOT_HELD = "not-held"
    NOT_AT_ORIGIN = "not-at-origin"
    ALREADY_ON_MOVEMENT = "already-on-movement"
    NOT_ON_MOVEMENT = "not-on-movement"
    ON_MANIFEST = "on-manifest"
    NOT_IN_TRANSIT = "not-in-transit"
    ADMISSION_WITHOUT_ARRIVAL = "no-admission-without-arrival"
    CUSTODIAN_MISMATCH = "custodian-mismatch"
    HANDOVER_TO_SELF = "handover-to-same-custodian"
    ESTATE_NOT_HELD = "estate-not-held"
    UNKNOWN_REFERENCE = "unknown-reference"
    CORRECTION_TARGET_UNKNOWN = "correction-target-unknown"
    CORRECTION_NOT_CORRECTABLE = "correction-target-not-correctable"
    CORRECTION_ALREADY_CORRECTED = "correction-target-already-corrected"
    CORRECTION_BREAKS_CHAIN = "correction-breaks-chain"
    DUPLICATE_PERSON = "duplicate-person-in-command"
    REASON_REQUIRED = "reason-required"


@dataclass(frozen=True, slots=True)
class Refused:
    """A refusal. Nothing is written when a command is refused."""

    person_id: str
    rule: Rule
    state: str
    message: str

    def __str__(self) -> str:
        return self.message


class RefusedError(Exception):
    """Raised by services to abort a whole unit of work because one command was refused."""

    def __init__(self, refused: Refused) -> None:
        super().__init__(refused.message)
        self.refused = refused
