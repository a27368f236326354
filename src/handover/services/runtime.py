"""Where services get the time and new random ids: real ones in production, seeded ones in the demo."""

from __future__ import annotations

import random
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass
class Runtime:
    clock: Callable[[], datetime]
    new_id: Callable[[], str]
    new_salt: Callable[[], bytes]


def system_runtime() -> Runtime:
    return Runtime(
        clock=lambda: datetime.now(UTC),
        new_id=lambda: str(uuid.uuid4()),
        new_salt=lambda: secrets.token_bytes(16),
    )


class SimulatedClock:
    """A clock the demo moves by hand, so two builds of the same seed record identical times."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the simulated clock needs a timezone-aware start")
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def seeded_runtime(seed: int, clock: SimulatedClock) -> Runtime:
    rng = random.Random(f"handover-ids-{seed}")
    return Runtime(
        clock=clock,
        new_id=lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        new_salt=lambda: rng.getrandbits(128).to_bytes(16, "big"),
    )
