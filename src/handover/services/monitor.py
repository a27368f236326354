"""What monitors read beyond the log itself: the identity records behind the commitments logged at registration.

With a record and its salt a monitor recomputes `commitment(identity, salt)` and compares it with the `identity`
detail of the person's `registered` event, so an identity swapped in the registry after registration shows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from handover.services.ports import UnitOfWork


def identity_records(uow: UnitOfWork) -> Iterator[dict[str, Any]]:
    """One record per person, in person-id order: id, salt (hex) and the identity as `Identity.canonical()` has it."""
    for person in uow.persons.all():
        yield {
            "person_id": person.id,
            "salt": person.identity_salt,
            "identity": json.loads(person.identity.canonical()),
        }
