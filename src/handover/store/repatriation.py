"""SQL for repatriation cases, their history, requests to countries and attached documents."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, insert, select, update

from handover.services.ports import CaseDocument, CaseEvent, RepatriationCase, RepatriationRequest
from handover.store.tables import (
    RepatriationCaseEventRow,
    RepatriationCaseRow,
    RepatriationDocumentRow,
    RepatriationRequestCaseRow,
    RepatriationRequestRow,
)

cases_t = RepatriationCaseRow.__table__
case_events_t = RepatriationCaseEventRow.__table__
requests_t = RepatriationRequestRow.__table__
request_cases_t = RepatriationRequestCaseRow.__table__
documents_t = RepatriationDocumentRow.__table__


def _case(row: Mapping[str, Any]) -> RepatriationCase:
    return RepatriationCase(**{k: row[k] for k in RepatriationCase.__dataclass_fields__})


def _event(row: Mapping[str, Any]) -> CaseEvent:
    return CaseEvent(**{k: row[k] for k in CaseEvent.__dataclass_fields__})


def _document(row: Mapping[str, Any]) -> CaseDocument:
    return CaseDocument(**{k: row[k] for k in CaseDocument.__dataclass_fields__})


class SqlRepatriation:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add_case(self, case: RepatriationCase) -> None:
        self._c.execute(insert(cases_t).values(**asdict(case)))

    def case(self, case_id: str) -> RepatriationCase | None:
        row = self._c.execute(select(cases_t).where(cases_t.c.id == case_id)).mappings().first()
        return _case(row) if row else None

    def case_for(self, person_id: str, country: str) -> RepatriationCase | None:
        query = select(cases_t).where(cases_t.c.person_id == person_id, cases_t.c.country == country)
        row = self._c.execute(query).mappings().first()
        return _case(row) if row else None

    def update_case(self, case: RepatriationCase) -> None:
        values = asdict(case)
        del values["id"]
        self._c.execute(update(cases_t).where(cases_t.c.id == case.id).values(**values))

    def cases(
        self,
        country: str | None = None,
        states: Iterable[str] | None = None,
        countries: Iterable[str] | None = None,
    ) -> list[RepatriationCase]:
        query = select(cases_t)
        if country is not None:
            query = query.where(cases_t.c.country == country)
        if states is not None:
            query = query.where(cases_t.c.state.in_(list(states)))
        if countries is not None:
            query = query.where(cases_t.c.country.in_(list(countries)))
        query = query.order_by(cases_t.c.country, cases_t.c.opened_at, cases_t.c.id)
        return [_case(r) for r in self._c.execute(query).mappings()]

    def person_cases(self, person_id: str) -> list[RepatriationCase]:
        query = select(cases_t).where(cases_t.c.person_id == person_id).order_by(cases_t.c.country)
        return [_case(r) for r in self._c.execute(query).mappings()]

    def add_case_event(self, event: CaseEvent) -> None:
        self._c.execute(insert(case_events_t).values(**asdict(event)))

    def case_events(self, case_id: str) -> list[CaseEvent]:
        query = select(case_events_t).where(case_events_t.c.case_id == case_id)
        rows = self._c.execute(query.order_by(case_events_t.c.seq)).mappings()
        return [_event(r) for r in rows]

    def add_request(self, request: RepatriationRequest) -> None:
        values = asdict(request)
        case_ids = values.pop("case_ids")
        self._c.execute(insert(requests_t).values(**values))
        if case_ids:
            self._c.execute(insert(request_cases_t), [{"request_id": request.id, "case_id": c} for c in case_ids])

    def _with_cases(self, rows: Iterable[Mapping[str, Any]]) -> list[RepatriationRequest]:
        found = [dict(r) for r in rows]
        if not found:
            return []
        links: dict[str, list[str]] = {r["id"]: [] for r in found}
        query = select(request_cases_t).where(request_cases_t.c.request_id.in_(list(links)))
        for link in self._c.execute(query.order_by(request_cases_t.c.case_id)).mappings():
            links[link["request_id"]].append(link["case_id"])
        return [RepatriationRequest(**r, case_ids=tuple(links[r["id"]])) for r in found]

    def request(self, request_id: str) -> RepatriationRequest | None:
        rows = self._c.execute(select(requests_t).where(requests_t.c.id == request_id)).mappings()
        found = self._with_cases(rows)
        return found[0] if found else None

    def requests(self, country: str | None = None) -> list[RepatriationRequest]:
        query = select(requests_t)
        if country is not None:
            query = query.where(requests_t.c.country == country)
        query = query.order_by(requests_t.c.sent_on, requests_t.c.created_at, requests_t.c.id)
        return self._with_cases(self._c.execute(query).mappings())

    def add_document(self, document: CaseDocument) -> None:
        self._c.execute(insert(documents_t).values(**asdict(document)))

    def document(self, document_id: str) -> CaseDocument | None:
        row = self._c.execute(select(documents_t).where(documents_t.c.id == document_id)).mappings().first()
        return _document(row) if row else None

    def documents(self, case_id: str) -> list[CaseDocument]:
        query = select(documents_t).where(documents_t.c.case_id == case_id)
        return [_document(r) for r in self._c.execute(query.order_by(documents_t.c.uploaded_at)).mappings()]

    def person_ids_in(self, states: Iterable[str]) -> set[str]:
        query = select(cases_t.c.person_id).where(cases_t.c.state.in_(list(states)))
        return set(self._c.execute(query).scalars())
