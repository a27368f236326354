"""The actor a service acts for, and the one check every service makes before it acts."""

from __future__ import annotations

from handover.core.policy.permissions import Actor, Permission
from handover.i18n import _
from handover.services.errors import ConflictError

# Until accounts exist, every request made with the operator token acts as this one operator.
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
