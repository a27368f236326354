"""Who may do what: a typed vocabulary of permissions, and the actor a service acts for.

Until accounts exist, the API and CLI act for one operator holding every operational permission; the accounts issue
maps roles (planner, field officer, intake officer, legal reviewer, ...) onto these same permissions.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Permission(StrEnum):
    PLAN_MOVEMENTS = "plan-movements"
    RUN_MOVEMENTS = "run-movements"
    ADMIT = "admit"
    REVIEW = "review"
    REPORT_INCIDENTS = "report-incidents"
    OVERRIDE_SAFEGUARDS = "override-safeguards"
    MANAGE_REFERENCE = "manage-reference"  # facilities, routes, and the officers who sign handovers


OPERATOR = frozenset(Permission)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who a request is made by: an id that goes into records, a name people read, and what they may do."""

    id: str
    name: str
    permissions: frozenset[Permission] = OPERATOR

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions
