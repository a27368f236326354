"""Officers who sign handovers: each is registered with the public half of their own Ed25519 key.

The list is reference data (reference:read: every role that works with records); registering an officer changes
it (reference:write).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from handover.core.policy.access import Action, Principal, Resource, actor_for
from handover.gate import needing, needs
from handover.i18n import _
from handover.services import handovers
from handover.services.ports import UnitOfWork
from handover.services.runtime import Runtime
from handover.web.common import Names, Uow, attempt, clean_id, clean_text, reading, redirect, render
from handover.web.refusals import Refusal

router = APIRouter(default_response_class=HTMLResponse)

Csrf = Annotated[str, Form()]
Text = Annotated[str, Form()]


def _page(
    request: Request, uow: UnitOfWork, refusal: Refusal | None = None, form: dict[str, str] | None = None
) -> HTMLResponse:
    names = Names(uow)
    officers = sorted(uow.operations.officers(), key=lambda o: (names.authority(o.authority_id), o.name))
    context = {
        "officers": [
            {"id": o.id, "name": o.name, "authority": names.authority(o.authority_id), "key": o.public_key}
            for o in officers
        ],
        "authorities": [(a.id, a.name) for a in uow.reference.authorities()],
        "form": form or {"name": "", "authority_id": "", "public_key": ""},
        "refusal": refusal,
    }
    return render(request, "officers.html", context, status_code=refusal.status if refusal else 200)


@router.get("/officers", name="web_officers", dependencies=[needs(Resource.REFERENCE, Action.READ)])
def officers(request: Request, uow: Uow) -> HTMLResponse:
    return _page(request, uow)


@router.post("/officers", name="web_register_officer")
def register_officer(
    request: Request,
    who: Annotated[Principal, needing(Resource.REFERENCE, Action.WRITE)],
    csrf: Csrf = "",
    name: Text = "",
    authority_id: Text = "",
    public_key: Text = "",
) -> Response:
    def act(uow: UnitOfWork, rt: Runtime) -> object:
        return handovers.register_officer(
            uow,
            rt,
            clean_text(name, _("The name"), 300),
            clean_id(authority_id, _("The authority")),
            clean_text(public_key, _("The public key"), 200),
            actor=actor_for(who),
        )

    done = attempt(request, csrf, act)
    if done.refusal is None:
        return redirect(request.url_for("web_officers").path)
    with reading(request) as uow:
        return _page(request, uow, done.refusal, {"name": name, "authority_id": authority_id, "public_key": public_key})
