"""The process the crash test kills: appends custody events in bulk, forever, through the real services.

    python tests/crash/append_child.py DATABASE_URL SEED

Each transaction registers a batch of people (services.registry.register_people) and assesses a few people that
an earlier transaction of this run registered (services.custody.record), so the projection sees inserts and
updates. Only after the commit returns does it print one line, flushed:

    <first log index> <last log index> <sha256 of the batch's event ids, in log order, joined by newlines>

so the parent knows exactly what was committed. A line `begin` comes before each transaction starts, so the parent
can tell a kill inside a transaction (last line `begin`) from one between transactions. Batch sizes vary (1..300)
so commits end anywhere in a tile.
The database must already hold the reference world of tests/factories.py (facility `ghweran`).
"""

from __future__ import annotations

import hashlib
import random
import sys
from datetime import UTC, date, datetime

from handover.core.custody import commands as c
from handover.core.custody.identity import Identity
from handover.core.custody.model import Sex
from handover.services.custody import record
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import system_runtime
from handover.store.uow import Database

MAX_BATCH = 300
MAX_ASSESSMENTS = 20


def _identity(rng: random.Random, n: int) -> Identity:
    return Identity(
        name_ar=f"محمد {n}",
        name_latin=f"Mohammed {n}",
        aliases=(),
        sex=Sex.MALE,
        birth_date=date(1970 + rng.randrange(30), 1 + rng.randrange(12), 1 + rng.randrange(28)),
        age_estimated=False,
        nationalities=("IQ",),
    )


def main(url: str, seed: int) -> None:
    rng = random.Random(seed)
    rt = system_runtime()
    db = Database(url)
    registered: list[str] = []  # people this run registered in committed transactions
    number = 0
    while True:
        size = rng.randint(1, MAX_BATCH)
        people = [NewPerson(_identity(rng, number + i), "ghweran") for i in range(size)]
        number += size
        now = datetime.now(UTC)
        print("begin", flush=True)
        with db.unit_of_work() as uow:
            stored = register_people(uow, rt, people, now)
            assessed = rng.sample(registered, min(len(registered), rng.randint(0, MAX_ASSESSMENTS)))
            commands = [
                c.Assess(
                    person_id=pid,
                    event_id=rt.new_id(),
                    occurred_at=now,
                    recorded_at=now,
                    kind="medical",
                    outcome="fit to travel",
                )
                for pid in assessed
            ]
            stored += record(uow, commands)
            uow.commit()
        registered += [s.event.person_id for s in stored[:size]]
        digest = hashlib.sha256("\n".join(s.event.event_id for s in stored).encode()).hexdigest()
        print(stored[0].seq, stored[-1].seq, digest, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
