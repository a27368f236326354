"""The actor a service acts for, and the one check every service makes before it acts."""

from __future__ import annotations

from handover.core.policy.permissions import Actor, Permission
from handover.i18n import _
from handover.services.errors import ConflictError

# What the command line acts as: whoever runs it holds the database itself. Requests act as their account
# (`handover.gate`), never as this.
OPERATOR = Actor("operator", "Operator")


class ForbiddenError(ConflictError):
    """The actor lacks a permission the action needs."""


def require(actor: Actor, permission: Permission) -> None:
    if not actor.can(permission):
        raise ForbiddenError(
            actor.id,
            "permission-required",
            "forbidden",
            _("{actor} lacks the permission {permission}.").format(actor=actor.name, permission=permission.value),
        )
