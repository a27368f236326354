"""The planner and the forecast on the command line: `handover plan`, `handover plan parameters` and `handover
forecast`.

Thin like the rest of the CLI, and in the API's shapes: `--json` prints what `GET /api/v1/plan` answers for the same
start and parameters, `--csv` writes what `GET /api/v1/plan.csv` serves. `--adopt DAY` turns one day of the plan just
shown into draft movements with their manifests, under the same safeguards as any manifest; a refusal prints the
rule and its text and exits 1, and nothing is written. Services, the database and the API's shapes are imported
inside the commands, so `handover verify` stays light.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from handover.cli.common import console, database, errors, print_json, refusals
from handover.i18n import _

if TYPE_CHECKING:
    from handover.api.planning import Computed
    from handover.core.planning.forecast import Forecast
    from handover.store.uow import Database

plan_app = typer.Typer(
    help=_("The planner: a checked day-by-day schedule to move everyone still waiting, and its forecast."),
    invoke_without_command=True,
)
parameters_app = typer.Typer(
    help=_("The planning parameters: sorties, intake caps, closures, freed places, priorities, holds."),
    invoke_without_command=True,
)
plan_app.add_typer(parameters_app, name="parameters")

AsJson = Annotated[bool, typer.Option("--json", help=_("Print JSON."))]


def install(app: typer.Typer) -> None:
    """Add `plan` (with `plan parameters`) and `forecast` to the `handover` application."""
    app.add_typer(plan_app, name="plan")
    app.command()(forecast)


def _day(text: str | None, what: str) -> date | None:
    if text is None:
        return None
    try:
        found = date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(_("{text} is not a date like 2026-01-22").format(text=text), param_hint=what) from None
    if not date(1900, 1, 1) <= found <= date(2200, 1, 1):
        raise typer.BadParameter(_("{text} is not between 1900 and 2200").format(text=text), param_hint=what)
    return found


def _today() -> date:
    return datetime.now(UTC).date()


def _when(day: date | None, band: Forecast) -> str:
    return day.isoformat() if day else _("beyond {days} days").format(days=band.max_days)


# --- handover plan --------------------------------------------------------------------------------------------------


@plan_app.callback()
def plan(
    ctx: typer.Context,
    start: Annotated[
        str | None, typer.Option(help=_("The plan's day 0, YYYY-MM-DD (default: the day after the latest event)."))
    ] = None,
    horizon: Annotated[
        int | None, typer.Option(min=1, max=730, help=_("Days to plan (default: the parameters')."))
    ] = None,
    time_limit: Annotated[
        float, typer.Option("--time-limit", min=0.1, max=120.0, help=_("Seconds the solver may take."))
    ] = 10.0,
    as_json: AsJson = False,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help=_("Also write the draft movements to this CSV file."))
    ] = None,
    adopt: Annotated[
        int | None,
        typer.Option("--adopt", min=0, help=_("Adopt this day of the plan: its drafts become draft movements.")),
    ] = None,
    scenario: Annotated[
        Path | None,
        typer.Option(
            "--scenario",
            exists=True,
            dir_okay=False,
            help=_("Plan from a scenario file (its people, first week and parameters) instead of the database."),
        ),
    ] = None,
) -> None:
    """Plan the moves of everyone still waiting: a summary, a table per day, and the forecast beside it."""
    if ctx.invoked_subcommand is not None:
        return
    from handover.api.planning import as_csv, chosen_values, compute, document, key_for, route_modes
    from handover.services import planning

    chosen = _day(start, "--start")
    if scenario is not None and adopt is not None:
        errors.print(_("--adopt changes the database; it cannot be used with --scenario."))
        raise typer.Exit(2)
    scratch = TemporaryDirectory() if scenario is not None else None
    db = database() if scenario is None or scratch is None else _scenario_database(scenario, Path(scratch.name))
    try:
        with refusals(), db.unit_of_work(read_only=True) as uow:
            day0 = chosen if chosen is not None else planning.default_start(uow, _today())
            values = chosen_values(uow, horizon)
            key = key_for(uow, day0, values, time_limit)
            with console.status(_("Planning…")) if not as_json else nullcontext():
                computed = compute(uow, key, values)
            modes = route_modes(uow)
        codes = _adopt(db, computed, adopt, horizon, time_limit) if adopt is not None else None
    finally:
        db.dispose()
        if scratch is not None:
            scratch.cleanup()
    if csv_file is not None:
        csv_file.write_text(as_csv(computed.result, modes), encoding="utf-8")
    if as_json:
        answer = document(computed)
        if codes is not None:
            answer["adopted"] = {"day": adopt, "codes": codes}
        print_json(answer)
    else:
        _print_plan(computed, modes)
    if csv_file is not None:
        (errors if as_json else console).print(
            _("Wrote {count} draft movements to {path}.").format(count=len(computed.result.drafts), path=csv_file),
            highlight=False,
        )
    if as_json:
        return
    if codes is not None:
        when = computed.result.start + timedelta(days=adopt or 0)
        console.print(
            _("Adopted day {day} ({date}): {count} draft movements: {codes}.").format(
                day=adopt, date=when.isoformat(), count=len(codes), codes=", ".join(codes)
            ),
            highlight=False,
        )


def _adopt(db: Any, computed: Computed, day: int, horizon: int | None, time_limit: float) -> list[str]:
    """Adopt `day` of the plan just made, while the log and the parameters are still what it was made from."""
    from handover.api.planning import chosen_values, key_for
    from handover.services import planning
    from handover.services.errors import ConflictError
    from handover.services.runtime import system_runtime

    with refusals():
        if not any(d.day == day for d in computed.result.drafts):
            raise ConflictError(
                "plan",
                "no-drafts-on-day",
                _("day {day}").format(day=day),
                _("Day {day} of this plan has no draft movements.").format(day=day),
            )
        with db.unit_of_work() as uow:
            if key_for(uow, computed.key.start, chosen_values(uow, horizon), time_limit) != computed.key:
                raise ConflictError(
                    "plan",
                    "plan-changed",
                    _("out of date"),
                    _("The log or the parameters changed while the plan was made; plan again, then adopt."),
                )
            codes = planning.adopt(uow, system_runtime(), computed.result, day)
            uow.commit()
    return codes


def _print_plan(computed: Computed, modes: dict[str, str]) -> None:
    result, plan = computed.result, computed.result.plan
    console.print(f"[bold]{plan.headline}[/bold]", highlight=False)
    completion = plan.completion_date
    console.print(
        _("Completion: {when}.").format(
            when=_("{date} (day {day})").format(date=completion.isoformat(), day=plan.completion_day)
            if completion
            else _("not within the {days}-day horizon").format(days=plan.horizon_days)
        ),
        highlight=False,
    )
    gap = _("gap {gap}").format(gap=f"{plan.gap:.2%}") if plan.gap is not None else _("no bound")
    console.print(
        _(
            "Status: {status} ({method}, {gap}, {seconds} s); {moved} of {people} people moved in {movements} "
            "movements, {remaining} still waiting."
        ).format(
            status=plan.status.value,
            method=plan.method,
            gap=gap,
            seconds=f"{plan.seconds:.1f}",
            moved=f"{plan.moved:,}",
            people=f"{plan.people:,}",
            movements=f"{plan.movements:,}",
            remaining=f"{plan.remaining:,}",
        ),
        highlight=False,
    )
    if result.violations:
        console.print(
            f"[red]{_('The checker found {count} broken rules:').format(count=len(result.violations))}[/red]",
            highlight=False,
        )
        for violation in result.violations:
            console.print(f"  {violation}", highlight=False)
    else:
        console.print(_("Checked: the independent checker finds every rule kept."), highlight=False)
    if plan.bottlenecks:
        console.print(_("What keeps people waiting:"), highlight=False)
        for b in plan.bottlenecks:
            console.print(f"  • {b.message}", highlight=False)
    if plan.schedule:
        table = Table(title=_("Day by day"))
        for column, justify in (
            (_("Date"), "left"),
            (_("Day"), "right"),
            (_("Route"), "left"),
            (_("Mode"), "left"),
            (_("Sorties"), "right"),
            (_("People"), "right"),
        ):
            table.add_column(column, justify=justify)  # type: ignore[arg-type]
        previous = None
        for r in sorted(plan.schedule, key=lambda r: (r.day, r.route_id)):
            when = result.start + timedelta(days=r.day)
            first = r.day != previous
            previous = r.day
            table.add_row(
                when.isoformat() if first else "",
                str(r.day) if first else "",
                r.route_id,
                modes.get(r.route_id, ""),
                f"{r.sorties:,}",
                f"{r.people:,}",
            )
        table.add_section()
        table.add_row(
            _("Total"),
            "",
            "",
            "",
            f"{sum(r.sorties for r in plan.schedule):,}",
            f"{sum(r.people for r in plan.schedule):,}",
        )
        console.print(table)
    _print_forecast(computed.forecast, planned=True)


def _print_forecast(band: Forecast, planned: bool) -> None:
    console.print(_("Forecast: {basis}").format(basis=band.basis), highlight=False)
    b = band.baseline
    line = _("At that pace, as of {as_of}: P50 {p50}, P85 {p85}, P95 {p95}").format(
        as_of=band.as_of.isoformat(),
        p50=_when(b.p50_date, band),
        p85=_when(b.p85_date, band),
        p95=_when(b.p95_date, band),
    )
    if band.plan_completion is not None:
        line += "; " + _("the plan says {date}").format(date=band.plan_completion.isoformat())
    elif planned and band.remaining:
        line += "; " + _("the plan does not finish within its horizon")
    console.print(line + ".", highlight=False)


# --- handover plan parameters ---------------------------------------------------------------------------------------


@parameters_app.callback()
def parameters(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Show the planning parameters."""
    if ctx.invoked_subcommand is not None:
        return
    from handover.services import planning

    db = database()
    try:
        with refusals(), db.unit_of_work(read_only=True) as uow:
            values = planning.parameters(uow).as_dict()
    finally:
        db.dispose()
    if as_json:
        print_json(values)
        return
    _print_parameters(values)


def _print_parameters(values: dict[str, Any]) -> None:
    table = Table(title=_("Planning parameters"))
    table.add_column(_("Parameter"), no_wrap=True)
    table.add_column(_("Value"))
    for name, value in values.items():
        table.add_row(name, json.dumps(value, ensure_ascii=False))
    console.print(table)


@parameters_app.command("set")
def set_parameters(
    file: Annotated[Path, typer.Argument(help=_("A JSON file with the parameters (fields left out: defaults)."))],
    as_json: AsJson = False,
) -> None:
    """Replace the planning parameters with those in a JSON file, validated as the API validates them."""
    from pydantic import ValidationError

    from handover.api.planning import PlanParameters, unknown_ids
    from handover.services import planning

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        body = PlanParameters.model_validate(data)
    except OSError as error:
        errors.print(f"[red]{_('Refused')}[/red]: {error}", highlight=False)
        raise typer.Exit(1) from None
    except json.JSONDecodeError as error:
        errors.print(f"[red]{_('Refused')}[/red]: {_('{path} is not JSON: {error}').format(path=file, error=error)}")
        raise typer.Exit(1) from None
    except ValidationError as error:
        problems = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in error.errors()]
        _invalid(problems)
    db = database()
    try:
        with refusals(), db.unit_of_work() as uow:
            unknown = unknown_ids(uow, body)
            if unknown:
                _invalid([{"loc": e["loc"][1:], "msg": e["msg"]} for e in unknown])
            values = body.values()
            planning.set_parameters(uow, values)
            uow.commit()
    finally:
        db.dispose()
    if as_json:
        print_json(values.as_dict())
        return
    console.print(_("Planning parameters set."), highlight=False)
    _print_parameters(values.as_dict())


def _invalid(problems: list[dict[str, Any]]) -> None:
    errors.print(f"[red]{_('Refused')}[/red] (invalid-parameters): {_('the parameters are not valid.')}")
    for p in problems:
        errors.print(f"  {'.'.join(str(x) for x in p['loc'])}: {p['msg']}", highlight=False)
    raise typer.Exit(1)


# --- handover forecast ----------------------------------------------------------------------------------------------


def forecast(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help=_("The last day of history, YYYY-MM-DD (default: the day of the latest event).")),
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help=_("Seed of the Monte Carlo runs."))] = 0,
    as_json: AsJson = False,
) -> None:
    """When everyone still waiting will have moved at the pace logged so far: P50, P85, P95, and what-ifs."""
    from handover.services import planning

    chosen = _day(as_of, "--as-of")
    db = database()
    try:
        with refusals(), db.unit_of_work(read_only=True) as uow:
            day = chosen if chosen is not None else planning.default_start(uow, _today()) - timedelta(days=1)
            remaining = planning.build_inputs(uow, day + timedelta(days=1)).model.people
            band = planning.make_forecast(uow, day, remaining, seed=seed)
    finally:
        db.dispose()
    if as_json:
        print_json(band.as_dict())
        return
    console.print(
        _("{remaining} people still to move as of {as_of}.").format(
            remaining=f"{band.remaining:,}", as_of=band.as_of.isoformat()
        ),
        highlight=False,
    )
    _print_forecast(band, planned=False)
    table = Table(title=_("What if"))
    for column in (_("Scenario"), _("P50"), _("P85"), _("P95"), _("Finished within reach")):
        table.add_column(column)
    for b in (band.baseline, *band.scenarios):
        table.add_row(
            b.scenario,
            _when(b.p50_date, band),
            _when(b.p85_date, band),
            _when(b.p95_date, band),
            f"{b.finished_share:.0%}",
        )
    console.print(table)


def _scenario_database(path: Path, directory: Path) -> Database:
    """A scratch database with the scenario built in it (its synthetic people, history and parameters)."""
    from handover.demo.build import build_demo
    from handover.demo.scenario import load
    from handover.store.uow import Database

    db = Database(f"sqlite:///{directory / 'scenario.sqlite3'}")
    db.migrate()
    with console.status(_("Building the scenario…")):
        build_demo(db.unit_of_work, scenario=load(path))
    return db
