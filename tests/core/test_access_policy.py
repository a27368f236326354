"""The permissions vocabulary, the role table and the scope checks (pure)."""

from __future__ import annotations

import pytest

from handover.core.policy.access import (
    ROLE_GRANTS,
    Action,
    Grant,
    MovementFacts,
    PersonFacts,
    Principal,
    Purpose,
    Resource,
    Role,
    Scope,
    actor_for,
    can,
    countries_in_scope,
    country_in_scope,
    in_scope,
    movement_in_scope,
    must_state_purpose,
    requires_second_factor,
    scope_problem,
    scopes,
)
from handover.core.policy.permissions import Permission


def test_a_grant_reads_and_prints_as_scope_resource_action() -> None:
    grant = Grant.parse("own-facility:person:read")
    assert grant == Grant(Scope.OWN_FACILITY, Resource.PERSON, Action.READ)
    assert str(grant) == "own-facility:person:read"
    for text in ROLE_GRANTS[Role.MONITOR]:
        assert Grant.parse(str(text)) == text


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("person:read", "not scope:resource:action"),
        ("everywhere:person:read", "unknown scope 'everywhere'"),
        ("all:people:read", "unknown resource 'people'"),
        ("all:person:delete", "unknown action 'delete'"),
    ],
)
def test_words_outside_the_vocabulary_are_refused(text: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        Grant.parse(text)


def test_all_covers_every_scope_and_no_other_scope_covers_another() -> None:
    planner = ROLE_GRANTS[Role.PLANNER]
    assert can(planner, "all:person:read")
    assert can(planner, "own-country:person:read")
    diplomat = ROLE_GRANTS[Role.DIPLOMAT]
    assert can(diplomat, "own-country:person:read")
    assert not can(diplomat, "all:person:read")
    assert not can(diplomat, "own-facility:person:read")
    # Writing never implies reading, nor reading writing.
    assert not can(ROLE_GRANTS[Role.MONITOR], "all:person:write")


def test_the_public_sees_aggregates_and_checkpoints_only() -> None:
    public = ROLE_GRANTS[Role.PUBLIC]
    assert {g.resource for g in public} == {Resource.REPORT, Resource.CHECKPOINT}
    assert all(g.scope is Scope.PUBLIC and g.action is Action.READ for g in public)


def test_the_monitor_reads_everything_and_writes_nothing() -> None:
    monitor = ROLE_GRANTS[Role.MONITOR]
    assert all(g.action is Action.READ for g in monitor)
    for resource in Resource:
        if resource is not Resource.ACCOUNT:
            assert can(monitor, Grant(Scope.ALL, resource, Action.READ))


def test_only_the_admin_manages_accounts_and_the_admin_sees_no_person() -> None:
    for role in Role:
        assert can(ROLE_GRANTS[role], "all:account:write") is (role is Role.ADMIN)
    assert not scopes(ROLE_GRANTS[Role.ADMIN], Resource.PERSON, Action.READ)


def test_second_factor_for_every_role_that_sees_personal_data() -> None:
    assert {r for r in Role if requires_second_factor(r)} == set(Role) - {Role.PUBLIC}


@pytest.mark.parametrize(
    ("role", "facility", "country", "authority", "problem"),
    [
        (Role.INTAKE_OFFICER, None, None, None, "needs a facility"),
        (Role.INTAKE_OFFICER, "karkh", "IQ", None, "takes no country"),
        (Role.DIPLOMAT, None, None, None, "needs a country"),
        (Role.DIPLOMAT, None, "KAZ", None, "not a two-letter country code"),
        (Role.FIELD_OFFICER, None, None, None, "needs a authority"),
        (Role.PLANNER, "karkh", None, None, "takes no facility"),
        (Role.INTAKE_OFFICER, "karkh", None, None, None),
        (Role.DIPLOMAT, None, "KZ", None, None),
        (Role.FIELD_OFFICER, None, None, "us-centcom", None),
        (Role.MONITOR, None, None, None, None),
    ],
)
def test_each_role_has_exactly_the_scope_it_needs(
    role: Role, facility: str | None, country: str | None, authority: str | None, problem: str | None
) -> None:
    found = scope_problem(role, facility, country, authority)
    assert (found is None) if problem is None else (problem in (found or ""))


ABROAD = PersonFacts("p1", facility_id="karkh", nationalities=("KZ", "RU"), escort_ids=frozenset())
MOVING = PersonFacts("p2", facility_id=None, nationalities=("FR",), escort_ids=frozenset({"us-centcom"}))
WAITING = PersonFacts("p3", facility_id="ghweran", nationalities=("IQ",), awaiting_review=True)


@pytest.mark.parametrize(
    ("principal", "visible"),
    [
        (Principal.of("a", "planner", Role.PLANNER), {"p1", "p2", "p3"}),
        (Principal.of("a", "monitor", Role.MONITOR), {"p1", "p2", "p3"}),
        (Principal.of("a", "intake", Role.INTAKE_OFFICER, facility_id="karkh"), {"p1"}),
        (Principal.of("a", "intake", Role.INTAKE_OFFICER, facility_id="al-hout"), set()),
        (Principal.of("a", "kz", Role.DIPLOMAT, country="KZ"), {"p1"}),
        (Principal.of("a", "ru", Role.DIPLOMAT, country="RU"), {"p1"}),  # every nationality counts
        (Principal.of("a", "fr", Role.DIPLOMAT, country="FR"), {"p2"}),
        (Principal.of("a", "escort", Role.FIELD_OFFICER, authority_id="us-centcom"), {"p2"}),
        (Principal.of("a", "escort", Role.FIELD_OFFICER, authority_id="iq-cts"), set()),
        (Principal.of("a", "reviewer", Role.LEGAL_REVIEWER), {"p3"}),
        (Principal.of("a", "admin", Role.ADMIN), set()),
        (Principal.of("", "public", Role.PUBLIC), set()),
    ],
)
def test_who_sees_whose_record(principal: Principal, visible: set[str]) -> None:
    assert {f.person_id for f in (ABROAD, MOVING, WAITING) if in_scope(principal, f)} == visible


def test_a_monitor_sees_a_record_but_may_not_write_it() -> None:
    monitor = Principal.of("a", "monitor", Role.MONITOR)
    assert in_scope(monitor, ABROAD) and not in_scope(monitor, ABROAD, Resource.PERSON, Action.WRITE)


def test_movements_in_scope() -> None:
    movement = MovementFacts("m1", "ghweran", "karkh", frozenset({"us-centcom", "iq-cts"}))
    assert movement_in_scope(Principal.of("a", "e", Role.FIELD_OFFICER, authority_id="iq-cts"), movement)
    assert not movement_in_scope(Principal.of("a", "e", Role.FIELD_OFFICER, authority_id="sy-moi"), movement)
    assert movement_in_scope(Principal.of("a", "i", Role.INTAKE_OFFICER, facility_id="karkh"), movement)
    assert not movement_in_scope(Principal.of("a", "i", Role.INTAKE_OFFICER, facility_id="al-hout"), movement)
    assert movement_in_scope(Principal.of("a", "p", Role.PLANNER), movement)
    assert not movement_in_scope(Principal.of("a", "d", Role.DIPLOMAT, country="IQ"), movement)


def test_countries_in_scope() -> None:
    diplomat = Principal.of("a", "kz", Role.DIPLOMAT, country="KZ")
    assert country_in_scope(diplomat, "KZ", Resource.REPATRIATION, Action.WRITE)
    assert not country_in_scope(diplomat, "FR")
    assert countries_in_scope(diplomat, Resource.REPATRIATION, Action.READ) == {"KZ"}
    assert countries_in_scope(Principal.of("a", "p", Role.PLANNER), Resource.REPATRIATION, Action.READ) is None
    assert (
        countries_in_scope(
            Principal.of("a", "e", Role.FIELD_OFFICER, authority_id="x"), Resource.REPATRIATION, Action.READ
        )
        == frozenset()
    )
    monitor = Principal.of("a", "m", Role.MONITOR)
    assert country_in_scope(monitor, "FR") and not country_in_scope(monitor, "FR", action=Action.WRITE)


def test_a_token_narrows_the_grants_and_never_widens_them() -> None:
    narrowed = Principal.of(
        "a",
        "d",
        Role.DIPLOMAT,
        country="KZ",
        narrowed_to=[Grant.parse("own-country:repatriation:read"), Grant.parse("all:person:read")],
    )
    # The role's grant it names, and what the public sees anyway; never `all:person:read`, which the role lacks.
    assert narrowed.grants == {Grant.parse("own-country:repatriation:read")} | ROLE_GRANTS[Role.PUBLIC]


@pytest.mark.parametrize(
    ("role", "permissions"),
    [
        (Role.PLANNER, {Permission.PLAN_MOVEMENTS, Permission.OVERRIDE_SAFEGUARDS}),
        (Role.FIELD_OFFICER, {Permission.RUN_MOVEMENTS, Permission.REPORT_INCIDENTS}),
        (Role.INTAKE_OFFICER, {Permission.ADMIT, Permission.RUN_MOVEMENTS, Permission.REPORT_INCIDENTS}),
        (Role.LEGAL_REVIEWER, {Permission.REVIEW}),
        (Role.DIPLOMAT, set()),
        (Role.MONITOR, set()),
        (Role.ADMIN, {Permission.MANAGE_REFERENCE}),
        (Role.PUBLIC, set()),
    ],
)
def test_roles_map_onto_the_permissions_the_services_check(role: Role, permissions: set[Permission]) -> None:
    actor = actor_for(Principal.of("acct-1", "someone", role, facility_id="f", country="KZ", authority_id="x"))
    assert actor.id == "acct-1" and actor.name == "someone"
    assert actor.permissions == permissions


def test_which_roles_must_state_why_they_read_a_record() -> None:
    assert {r for r in Role if must_state_purpose(r)} == {Role.MONITOR, Role.ADMIN, Role.PUBLIC}
    assert Purpose("consular") is Purpose.CONSULAR
