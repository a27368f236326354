"""After the demo's history: the people who work in it (one account per role) and the repatriation cases they work.

`handover demo` calls `add_accounts_and_cases` once the history is built; it is idempotent for the accounts and
adds cases only to a demo that has none, so running the command again changes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from handover.demo.accounts import DemoAccount, add_demo_accounts, demo_runtime
from handover.demo.build import UnitOfWorkFactory
from handover.demo.repatriation import DemoRepatriation, add_demo_repatriation
from handover.services.ports import AccountsUnitOfWork
from handover.services.runtime import SimulatedClock

# The cases open the day after the last recorded event, so their history follows the custody history.
AFTER_HISTORY = timedelta(days=1)


def add_accounts_and_cases(
    factory: UnitOfWorkFactory, seed: int = 2026
) -> tuple[list[DemoAccount], DemoRepatriation | None]:
    """The demo's accounts, and its repatriation cases unless it has some already (None then)."""
    with factory() as opened:
        uow = cast(AccountsUnitOfWork, opened)
        last = uow.operations.latest_occurred_at()
        if last is None:
            raise ValueError("the demo's history must be built before its accounts and cases")
        clock = SimulatedClock(last + AFTER_HISTORY)
        rt = demo_runtime(seed, clock)
        users = add_demo_accounts(uow, rt, seed=seed)
        cases = None
        if not uow.repatriation.cases():
            cases = add_demo_repatriation(uow, rt, clock, users, seed=seed)
        uow.commit()
    return users, cases
