"""`fast_constructor` builds the same frozen instance the dataclass's own __init__ builds."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from handover.core.custody import CustodyEvent, EventType, PersonState, Status
from handover.core.custody.model import Estate
from handover.core.frozen import fast_constructor

T0 = datetime(2026, 1, 21, tzinfo=UTC)


@pytest.mark.parametrize(
    "cls, values",
    [
        (CustodyEvent, ("e", "p", EventType.REGISTERED, T0, T0, "f", "a", None, None, (("estate", "minors"),))),
        (PersonState, ("p", Status.HELD, Estate.MINORS, "a", "f", None, "e", 1)),
    ],
    ids=["event", "state"],
)
def test_the_same_instance_as_init_builds_and_as_frozen(cls: type, values: tuple[object, ...]) -> None:
    built = fast_constructor(cls)(*values)
    assert type(built) is cls and built == cls(*values) and hash(built) == hash(cls(*values))
    assert dataclasses.astuple(built) == values
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.person_id = "q"


@dataclasses.dataclass(frozen=True)
class NoSlots:
    x: int


@dataclasses.dataclass(slots=True)
class NotFrozen:
    x: int


@dataclasses.dataclass(frozen=True, slots=True)
class Checked:
    x: int

    def __post_init__(self) -> None:
        if self.x < 0:
            raise ValueError("negative")


@pytest.mark.parametrize("cls", [NoSlots, NotFrozen, Checked, int])
def test_only_frozen_slotted_dataclasses_without_checks(cls: type) -> None:
    with pytest.raises(TypeError):
        fast_constructor(cls)
