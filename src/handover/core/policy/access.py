"""Need to know: permissions as a typed vocabulary `scope:resource:action`, the roles of DESIGN.md and their grants
in one table, and the pure checks that decide what a principal may see and do.

A permission names what may be done (`action`) to what (`resource`) and over which records (`scope`):
`own-facility:person:read` is "read the records of people held at my facility". A route or a service asks for a
resource and an action; the principal's grants say over which scope, and the scope checks below decide for one
record. `all` covers every scope; no other scope covers another. Writing never implies reading: both are granted.

The services of the transfer operations check the flat `Permission` of `permissions.py` on an `Actor`; `actor_for`
maps a principal's grants onto them, so those services need no change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from handover.core.policy.permissions import Actor, Permission


class Scope(StrEnum):
    """Over which records a grant holds."""

    ALL = "all"
    OWN_FACILITY = "own-facility"  # people held at (and movements to or from) the principal's facility
    OWN_COUNTRY = "own-country"  # people of the principal's nationality, and that country's repatriation cases
    ESCORTED_MOVEMENTS = "escorted-movements"  # movements a leg of which the principal's authority escorts
    AWAITING_REVIEW = "awaiting-review"  # people whose pre-transfer legal review is not done
    PUBLIC = "public"  # aggregates and signed checkpoints: never a person's record


class Resource(StrEnum):
    PERSON = "person"  # the identity record and custody chain of one person
    MOVEMENT = "movement"  # running movements: legs, boarding, departures, arrivals, signed handovers
    PLAN = "plan"  # planning: draft movements, legs, manifests, the planner and forecast
    ADMISSION = "admission"  # admitting arrivals, family notifications
    ASSESSMENT = "assessment"  # pre-transfer safeguard reviews (medical, legal)
    SAFEGUARDS = "safeguards"  # which safeguards apply, and overriding them
    INCIDENT = "incident"
    REPATRIATION = "repatriation"  # repatriation cases and requests to countries
    DOCUMENT = "document"  # documents attached to repatriation cases
    REFERENCE = "reference"  # authorities, facilities, routes, officers
    REPORT = "report"  # aggregate counts (no personal data)
    CHECKPOINT = "checkpoint"  # the log's signed checkpoints and hash tiles
    LOG = "log"  # the log's entries (ids only, but every event of every person)
    ACCESS_LOG = "access-log"  # who read whose record
    ACCOUNT = "account"  # accounts, roles, tokens


class Action(StrEnum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True, slots=True, order=True)
class Grant:
    """One permission: `scope:resource:action`."""

    scope: Scope
    resource: Resource
    action: Action

    def __str__(self) -> str:
        return f"{self.scope.value}:{self.resource.value}:{self.action.value}"

    @classmethod
    def parse(cls, text: str) -> Grant:
        """`own-facility:person:read` -> Grant; ValueError naming the part that is not in the vocabulary."""
        parts = text.strip().split(":")
        if len(parts) != 3:
            raise ValueError(f"permission {text!r} is not scope:resource:action")
        scope, resource, action = parts
        try:
            return cls(Scope(scope), Resource(resource), Action(action))
        except ValueError:
            for value, kind, name in ((scope, Scope, "scope"), (resource, Resource, "resource")):
                if value not in {member.value for member in kind}:
                    raise ValueError(f"permission {text!r}: unknown {name} {value!r}") from None
            raise ValueError(f"permission {text!r}: unknown action {action!r}") from None


def grants(*texts: str) -> frozenset[Grant]:
    return frozenset(Grant.parse(text) for text in texts)


class Role(StrEnum):
    ADMIN = "admin"
    PLANNER = "planner"
    FIELD_OFFICER = "field-officer"
    INTAKE_OFFICER = "intake-officer"
    LEGAL_REVIEWER = "legal-reviewer"
    DIPLOMAT = "diplomat"
    MONITOR = "monitor"
    PUBLIC = "public"


_PUBLIC = ("public:report:read", "public:checkpoint:read")
_EVERYTHING_READ = tuple(f"all:{resource.value}:read" for resource in Resource if resource is not Resource.ACCOUNT)

# THE table: every role's grants. Routes and services ask `can`/`in_scope` against it; nothing else grants anything.
ROLE_GRANTS: Mapping[Role, frozenset[Grant]] = {
    # Anyone, signed in or not: aggregates and checkpoints only.
    Role.PUBLIC: grants(*_PUBLIC),
    # Manages accounts and reference data, reads who read what and releases the public report; sees no person's
    # record.
    Role.ADMIN: grants(
        *_PUBLIC,
        "all:account:read",
        "all:account:write",
        "all:access-log:read",
        "all:reference:read",
        "all:reference:write",
        "all:report:read",
        # Releasing the public report is a publication decision, made by whoever answers for the operation's
        # disclosures; it shows no person's record, so it needs no personal-data role.
        "all:report:write",
        "all:checkpoint:read",
    ),
    # Sets up movements, runs the planner and forecast, works repatriation cases: everything operational.
    Role.PLANNER: grants(
        *_PUBLIC,
        "all:person:read",
        "all:movement:read",
        "all:plan:read",
        "all:plan:write",
        "all:admission:read",
        "all:assessment:read",
        "all:safeguards:read",
        "all:safeguards:write",
        "all:incident:read",
        "all:repatriation:read",
        "all:repatriation:write",
        "all:document:read",
        "all:document:write",
        "all:reference:read",
        "all:report:read",
        "all:checkpoint:read",
    ),
    # Boards people, records departures, handovers and incidents, on the movements their authority escorts.
    Role.FIELD_OFFICER: grants(
        *_PUBLIC,
        "escorted-movements:person:read",
        "escorted-movements:movement:read",
        "escorted-movements:movement:write",
        "escorted-movements:incident:read",
        "escorted-movements:incident:write",
        "all:reference:read",
    ),
    # Admits arrivals and records family notifications at their own facility.
    Role.INTAKE_OFFICER: grants(
        *_PUBLIC,
        "own-facility:person:read",
        "own-facility:movement:read",
        # The facility's side of a handover: signing for people received (or handed to an escort) at the gate.
        "own-facility:movement:write",
        "own-facility:admission:read",
        "own-facility:admission:write",
        "own-facility:incident:read",
        "own-facility:incident:write",
        "all:reference:read",
    ),
    # Records pre-transfer safeguard reviews for people awaiting one.
    Role.LEGAL_REVIEWER: grants(
        *_PUBLIC,
        "awaiting-review:person:read",
        "awaiting-review:assessment:read",
        "awaiting-review:assessment:write",
        "all:reference:read",
    ),
    # Follows (and moves) the repatriation cases of their own country's nationals, and nobody else.
    Role.DIPLOMAT: grants(
        *_PUBLIC,
        "own-country:person:read",
        "own-country:repatriation:read",
        "own-country:repatriation:write",
        "own-country:document:read",
        "own-country:document:write",
        "all:reference:read",
    ),
    # Verifies the log and every custody chain: reads everything, writes nothing.
    Role.MONITOR: grants(*_PUBLIC, *_EVERYTHING_READ),
}

# The records no role may see without a second factor at sign-in.
PERSONAL_RESOURCES = frozenset({Resource.PERSON, Resource.DOCUMENT, Resource.ACCESS_LOG, Resource.LOG})

# What each role must say it is scoped to: a facility, a country or an authority.
SCOPE_ATTRIBUTE: Mapping[Role, str] = {
    Role.INTAKE_OFFICER: "facility",
    Role.DIPLOMAT: "country",
    Role.FIELD_OFFICER: "authority",
}


def sees_personal_data(role: Role) -> bool:
    return any(grant.resource in PERSONAL_RESOURCES for grant in ROLE_GRANTS[role])


def requires_second_factor(role: Role) -> bool:
    """Every role that sees personal data, and the admin (who can grant any role), signs in with a second factor."""
    return role is Role.ADMIN or sees_personal_data(role)


def scope_problem(role: Role, facility_id: str | None, country: str | None, authority_id: str | None) -> str | None:
    """Why this role cannot have this scope (a missing or a superfluous facility, country or authority), or None."""
    given = {"facility": facility_id, "country": country, "authority": authority_id}
    needed = SCOPE_ATTRIBUTE.get(role)
    for name, value in given.items():
        if name == needed and not value:
            return f"the role {role.value} needs a {name}"
        if name != needed and value:
            return f"the role {role.value} takes no {name}"
    if country is not None and needed == "country" and (len(country) != 2 or not country.isalpha()):
        return f"{country!r} is not a two-letter country code"
    return None


def covers(grant: Grant, wanted: Grant) -> bool:
    """Whether `grant` allows `wanted`: same resource and action, and `all` or the same scope."""
    if grant.resource is not wanted.resource or grant.action is not wanted.action:
        return False
    return grant.scope is Scope.ALL or grant.scope is wanted.scope


def can(role_grants: Iterable[Grant], permission: Grant | str) -> bool:
    """Whether the grants allow the permission (`all` covers every scope)."""
    wanted = Grant.parse(permission) if isinstance(permission, str) else permission
    return any(covers(grant, wanted) for grant in role_grants)


def scopes(role_grants: Iterable[Grant], resource: Resource, action: Action) -> frozenset[Scope]:
    """The scopes over which the grants allow `action` on `resource` (empty: not at all)."""
    return frozenset(g.scope for g in role_grants if g.resource is resource and g.action is action)


def may(role_grants: Iterable[Grant], resource: Resource, action: Action) -> bool:
    """Whether the grants allow `action` on `resource` over some scope: what a route checks before looking at ids."""
    return bool(scopes(role_grants, resource, action))


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting: an account (and the token it used, if any), its role, its scope, and the grants in force.

    `grants` are the role's, or fewer: an API token carries a subset of its account's role's grants.
    """

    account_id: str
    name: str
    role: Role
    facility_id: str | None = None
    country: str | None = None
    authority_id: str | None = None
    grants: frozenset[Grant] = field(default=frozenset())
    token_id: str | None = None

    @classmethod
    def of(
        cls,
        account_id: str,
        name: str,
        role: Role,
        facility_id: str | None = None,
        country: str | None = None,
        authority_id: str | None = None,
        narrowed_to: Iterable[Grant] | None = None,
        token_id: str | None = None,
    ) -> Principal:
        """A principal with its role's grants, narrowed to `narrowed_to` (and the public's) when a token names fewer."""
        held = ROLE_GRANTS[role]
        if narrowed_to is not None:
            # A narrowed token never sees less than the public does without any token.
            held = (held & frozenset(narrowed_to)) | ROLE_GRANTS[Role.PUBLIC]
        return cls(account_id, name, role, facility_id, country, authority_id, held, token_id)

    def can(self, permission: Grant | str) -> bool:
        return can(self.grants, permission)


ANONYMOUS = Principal.of("", "public", Role.PUBLIC)


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """What the scope checks need to know about one person (ids only, from the custody projection and registry)."""

    person_id: str
    facility_id: str | None = None  # where they are held now (None in transit)
    nationalities: tuple[str, ...] = ()
    escort_ids: frozenset[str] = frozenset()  # authorities escorting a leg of the movement they are on
    awaiting_review: bool = False  # legal review not (yet) cleared


@dataclass(frozen=True, slots=True)
class MovementFacts:
    movement_id: str
    origin_id: str
    destination_id: str
    escort_ids: frozenset[str] = frozenset()  # every leg's escorting authority


def _person_scope(principal: Principal, scope: Scope, facts: PersonFacts) -> bool:
    match scope:
        case Scope.ALL:
            return True
        case Scope.OWN_FACILITY:
            return facts.facility_id is not None and facts.facility_id == principal.facility_id
        case Scope.OWN_COUNTRY:
            return principal.country is not None and principal.country in facts.nationalities
        case Scope.ESCORTED_MOVEMENTS:
            return principal.authority_id is not None and principal.authority_id in facts.escort_ids
        case Scope.AWAITING_REVIEW:
            return facts.awaiting_review
        case Scope.PUBLIC:
            return False  # a person's record is never public
    raise AssertionError(f"unhandled scope {scope}")  # pragma: no cover - enum is closed


def in_scope(
    principal: Principal, facts: PersonFacts, resource: Resource = Resource.PERSON, action: Action = Action.READ
) -> bool:
    """Whether the principal may `action` this person's `resource` (their record, by default): some grant's scope
    holds for them. Asked by id for someone out of scope, a route answers 404, so existence is not confirmed."""
    return any(_person_scope(principal, s, facts) for s in scopes(principal.grants, resource, action))


def movement_in_scope(
    principal: Principal, facts: MovementFacts, resource: Resource = Resource.MOVEMENT, action: Action = Action.READ
) -> bool:
    for scope in scopes(principal.grants, resource, action):
        if scope is Scope.ALL:
            return True
        if scope is Scope.ESCORTED_MOVEMENTS and principal.authority_id in facts.escort_ids:
            return True
        if scope is Scope.OWN_FACILITY and principal.facility_id in (facts.origin_id, facts.destination_id):
            return True
    return False


def facility_in_scope(
    principal: Principal, facility_id: str, resource: Resource = Resource.ADMISSION, action: Action = Action.READ
) -> bool:
    """Whether the principal may `action` a facility's `resource` (its arrivals, admissions, roll, incidents)."""
    for scope in scopes(principal.grants, resource, action):
        if scope is Scope.ALL or (scope is Scope.OWN_FACILITY and principal.facility_id == facility_id):
            return True
    return False


def person_filter(principal: Principal, resource: Resource = Resource.PERSON, action: Action = Action.READ) -> bool:
    """Whether a list of people must be filtered one by one (False: the principal sees all of them)."""
    return Scope.ALL not in scopes(principal.grants, resource, action)


def country_in_scope(
    principal: Principal, country: str, resource: Resource = Resource.REPATRIATION, action: Action = Action.READ
) -> bool:
    """Whether the principal may `action` a country's `resource` (repatriation cases and their documents)."""
    for scope in scopes(principal.grants, resource, action):
        if scope is Scope.ALL or (scope is Scope.OWN_COUNTRY and principal.country == country):
            return True
    return False


def countries_in_scope(principal: Principal, resource: Resource, action: Action) -> frozenset[str] | None:
    """The countries whose records the principal may see: None for all of them, else a (maybe empty) set."""
    held = scopes(principal.grants, resource, action)
    if Scope.ALL in held:
        return None
    if Scope.OWN_COUNTRY in held and principal.country:
        return frozenset({principal.country})
    return frozenset()


# --- onto the flat permissions the transfer services check -------------------------------------------------------

# A principal holds a flat permission when it may write the resource over some scope. The services then check
# scope themselves where they must (or the routes do, before calling them).
LEGACY: Mapping[Permission, tuple[Resource, Action]] = {
    Permission.PLAN_MOVEMENTS: (Resource.PLAN, Action.WRITE),
    Permission.RUN_MOVEMENTS: (Resource.MOVEMENT, Action.WRITE),
    Permission.ADMIT: (Resource.ADMISSION, Action.WRITE),
    Permission.REVIEW: (Resource.ASSESSMENT, Action.WRITE),
    Permission.REPORT_INCIDENTS: (Resource.INCIDENT, Action.WRITE),
    Permission.OVERRIDE_SAFEGUARDS: (Resource.SAFEGUARDS, Action.WRITE),
    Permission.MANAGE_REFERENCE: (Resource.REFERENCE, Action.WRITE),
}


def legacy_permissions(role_grants: Iterable[Grant]) -> frozenset[Permission]:
    held = frozenset(role_grants)
    return frozenset(p for p, (resource, action) in LEGACY.items() if may(held, resource, action))


def actor_for(principal: Principal) -> Actor:
    """The actor the transfer services act for: the account's id and name, and the flat permissions it holds."""
    return Actor(principal.account_id, principal.name, legacy_permissions(principal.grants))


# --- why a person's record is read --------------------------------------------------------------------------------


class Purpose(StrEnum):
    """Why a record was read: a code from this list goes into the access log (free text never goes into the log)."""

    OPERATIONS = "operations"  # planning or running a transfer
    INTAKE = "intake"  # admitting, notifying
    LEGAL_REVIEW = "legal-review"
    CONSULAR = "consular"  # a diplomat following a national
    CASE_WORK = "case-work"  # working a repatriation case
    MONITORING = "monitoring"  # verifying custody chains
    COMPLAINT = "complaint"  # looking into a complaint or an incident
    CORRECTION = "correction"  # fixing a record
    ADMINISTRATION = "administration"


# The purpose a role's reads are recorded with, unless it states another; roles absent here must state one.
DEFAULT_PURPOSE: Mapping[Role, Purpose] = {
    Role.PLANNER: Purpose.OPERATIONS,
    Role.FIELD_OFFICER: Purpose.OPERATIONS,
    Role.INTAKE_OFFICER: Purpose.INTAKE,
    Role.LEGAL_REVIEWER: Purpose.LEGAL_REVIEW,
    Role.DIPLOMAT: Purpose.CONSULAR,
}


def must_state_purpose(role: Role) -> bool:
    return role not in DEFAULT_PURPOSE
