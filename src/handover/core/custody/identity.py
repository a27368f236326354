"""Identity records and the salted commitment that binds one to a registration without revealing it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date

from handover.core.custody.model import Estate, Sex, estate_for


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a person is. Lives in the registry only; events and the log name people by random id."""

    name_ar: str
    name_latin: str
    aliases: tuple[str, ...]
    sex: Sex
    birth_date: date | None
    age_estimated: bool
    nationalities: tuple[str, ...]
    mother_id: str | None = None

    @property
    def nationality(self) -> str:
        return self.nationalities[0] if self.nationalities else ""

    def age_on(self, day: date) -> int:
        if self.birth_date is None:
            raise ValueError("age unknown: no date of birth or estimate")
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def estate_on(self, day: date) -> Estate:
        return estate_for(self.sex, self.age_on(day))

    def canonical(self) -> bytes:
        """A stable byte form: sorted keys, no whitespace, UTF-8 (identical input gives identical bytes)."""
        record = {
            "aliases": list(self.aliases),
            "age_estimated": self.age_estimated,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "mother_id": self.mother_id,
            "name_ar": self.name_ar,
            "name_latin": self.name_latin,
            "nationalities": list(self.nationalities),
            "sex": self.sex.value,
        }
        return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def commitment(identity: Identity, salt: bytes) -> str:
    """SHA-256 over salt then the canonical record, hex. The salt stops anyone guessing identities from the log."""
    if len(salt) < 16:
        raise ValueError("an identity salt needs at least 16 random bytes")
    return hashlib.sha256(salt + identity.canonical()).hexdigest()
