"""Server-rendered pages, one small module per area, registered on one router (mounted at / by handover.app).

- dashboard: progress, occupancy, alerts, the daily roll, the latest events and the log's checkpoint;
- persons: one person's custody chain with its proofs;
- movements: the planners' board, a movement, its manifest;
- plan: the planner's schedule and forecast, its exports, and adopting a day into draft movements;
- field: the field officer's checklist (boarding, departure, arrival, incidents) and signed handovers;
- intake: arrivals awaiting admission and family notifications, per facility;
- officers: who may sign handovers, with their public keys;
- access_log: who read whose record (monitors and administrators);
- report: the public transparency report, each release with its files and the history of releases;
- repatriation: countries' repatriation cases, one country's requests and cases, one case's history and documents;
- session: signing in and out, changing a one-time password, setting up the second factor.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from handover.web import (
    access_log,
    dashboard,
    field,
    intake,
    movements,
    officers,
    persons,
    plan,
    repatriation,
    report,
    session,
)

router = APIRouter(default_response_class=HTMLResponse)
for module in (access_log, dashboard, persons, movements, plan, field, intake, officers, repatriation, report, session):
    router.include_router(module.router)
