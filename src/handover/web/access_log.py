"""The access log page: who read whose record, when and why, newest first (monitors and administrators)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from handover.core.policy.access import Action, Resource
from handover.gate import needs
from handover.services import access_log
from handover.web.common import Uow, render

router = APIRouter(default_response_class=HTMLResponse)

SHOWN = 200


@router.get("/access-log", name="web_access_log", dependencies=[needs(Resource.ACCESS_LOG, Action.READ)])
def access_log_page(request: Request, uow: Uow, person: str = "") -> HTMLResponse:
    accounts_uow = uow
    person_id = person.strip()[:64]
    found = access_log.reads_of(accounts_uow, person_id, SHOWN) if person_id else access_log.latest(accounts_uow, SHOWN)
    names = {a.id: a.display_name for a in accounts_uow.accounts.all()}
    rows = [
        {
            "seq": r.seq,
            "reader": names.get(r.reader_id, r.reader_id),
            "person_id": r.person_id,
            "purpose": r.purpose,
            "note": r.note,
            "at": r.at,
        }
        for r in found
    ]
    return render(request, "access_log.html", {"rows": rows, "person": person_id, "shown": SHOWN})
