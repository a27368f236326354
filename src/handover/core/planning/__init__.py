"""Planning: a day-by-day schedule that moves everyone, checked independently, and a forecast of when it ends.

Pure: no database, web or CLI. A service builds the inputs (from the database or a scenario file) and calls, in order:

    from handover.core.planning import model, solver, checker, fill, forecast

    inputs = model.PlanningInput(horizon_days=60, start=date(2026, 1, 22), origins=(...), destinations=(...),
                                 routes=(...), cohorts=(...), crossings=(...), overall_daily_cap=model.Steps(500),
                                 repatriation_hold_until=15)       # raises model.InvalidPlanningInput, in words
    plan = solver.solve(inputs, solver.SolverOptions(time_limit=10.0, mip_gap=0.005))
    assert checker.check(inputs, plan) == []                       # a list of checker.Violation, in words
    drafts = fill.fill(inputs, plan, members)                      # members: model.Member(person, cohort, family)
    assert checker.check(inputs, plan, drafts, members) == []      # raises fill.FillError if it cannot pack
    plan.as_dict(); [d.as_dict(inputs.start) for d in drafts]      # JSON-ready
    band = forecast.forecast(history, people_still_to_move, as_of=today, plan_completion=plan.completion_date,
                             scenarios=[forecast.double_the_sorties(), forecast.random_halts(0.1, 3)])

`greedy.plan_greedy(inputs)` is the first-fit baseline, with the same Plan. Modules:

- `model`: the inputs (Cohort, Origin, Destination, Freed, Route, Crossing, Steps, Headcount, Member, PlanningInput).
- `plan`: the outputs (Plan, RouteDay, CohortLoad, DestinationDay, DraftMovement, Bottleneck, PlanStatus).
- `rules`, `flows`, `summary`, `explain`: what the planners share: the rules as they read them, the day-by-day
  quantities of a plan, the Plan built from moves, and the binding constraints named in words.
- `solver` (HiGHS), `greedy`, `fill`: the planners.
- `checker`: the independent checker; it imports only `model` and `plan`, never planner code.
- `forecast`: the Monte Carlo forecast and what-if scenarios (NumPy).

This module imports nothing, so that importing the checker does not import the solver.
"""
