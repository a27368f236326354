"""The web application: the JSON API under /api/v1 and the pages under /, on one database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from handover.api import access_log, handovers, movements, operations, planning
from handover.api import report as report_api
from handover.api.log import proofs_router as log_proofs_router
from handover.api.log import tiles_router as log_tiles_router
from handover.api.problems import denied_problem, install_problem_handlers
from handover.api.repatriation import router as repatriation_router
from handover.api.routes import router as api_router
from handover.api.writes import router as write_router
from handover.background import CheckpointSigner, ReportPublisher
from handover.core.tlog.note import Signer
from handover.gate import Denied, enforce
from handover.i18n import DEFAULT_LANGUAGE, DOMAIN, LOCALE_DIR, reset_language, use_language
from handover.services.report_context import configured_policy
from handover.services.runtime import Runtime, system_runtime
from handover.settings import get_settings
from handover.store.uow import Database
from handover.web.auth import denied_page
from handover.web.routes import router as web_router

STATIC = Path(__file__).resolve().parent / "web" / "static"
# How often the server looks whether the public report's next release is due (it is due once a cadence, in days).
REPORT_CHECK_SECONDS = 3600.0


def available_languages(locale_dir: Path = LOCALE_DIR) -> frozenset[str]:
    """The default language and every language with a compiled catalogue under handover/locale."""
    found = {p.parent.parent.name for p in locale_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")}
    return frozenset({DEFAULT_LANGUAGE, *found})


def choose_language(accept_language: str, languages: frozenset[str]) -> str:
    """The best of `languages` for an Accept-Language header (RFC 9110 quality values), else the default.

    `pt-BR` matches a `pt_BR` catalogue first, then `pt`.
    """
    lowered = {language.lower().replace("_", "-"): language for language in languages}
    wanted: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _sep, params = part.strip().partition(";")
        tag = tag.strip().lower()
        if not tag or tag == "*":
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            wanted.append((-quality, position, tag))
    for _quality, _position, tag in sorted(wanted):
        if tag in lowered:
            return lowered[tag]
        primary = tag.split("-", 1)[0]
        if primary in lowered:
            return lowered[primary]
    return DEFAULT_LANGUAGE


class LanguageMiddleware:
    """Serve each request in the language its Accept-Language asks for, among those we have catalogues for."""

    def __init__(self, app: ASGIApp, languages: frozenset[str]) -> None:
        self.app = app
        self.languages = languages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        language = choose_language(Headers(scope=scope).get("accept-language", ""), self.languages)

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("content-language", language)
                headers.add_vary_header("Accept-Language")
            await send(message)

        token = use_language(language)
        try:
            await self.app(scope, receive, send_with_language)
        finally:
            reset_language(token)


def _denied(request: Request, exc: Exception) -> Response:
    """API paths answer a problem document; pages send the public to sign in and show others a refusal."""
    assert isinstance(exc, Denied)
    if request.url.path.startswith(("/api/", "/log/")):
        return denied_problem(request, exc)
    return denied_page(request, exc)


def create_app(
    database: Database | None = None,
    *,
    runtime: Runtime | None = None,
    signer: Signer | None = None,
    checkpoint_interval: float | None = None,
) -> FastAPI:
    """The application on `database`, or on the configured database URL (disposed at shutdown) when None.

    Every route says what it needs (`handover.gate`); the app refuses to start with one that does not.
    `runtime` is the clock and id source for writes (default: the system's; tests pass a seeded one).
    `signer` signs checkpoints every `checkpoint_interval` seconds while the log grows (defaults from settings).
    """
    owned = database is None
    db = database if database is not None else Database(get_settings().database_url)

    settings = get_settings()
    interval = settings.checkpoint_interval if checkpoint_interval is None else checkpoint_interval
    rt = runtime if runtime is not None else system_runtime()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        signing = CheckpointSigner(db, signer, rt, interval) if signer is not None and interval > 0 else None
        # Releases stand on checkpoints, so the server releases the report only where it signs them.
        publishing = ReportPublisher(db, rt, configured_policy(), REPORT_CHECK_SECONDS) if signing is not None else None
        for worker in (signing, publishing):
            if worker is not None:
                worker.start()
        yield
        for worker in (publishing, signing):
            if worker is not None:
                worker.stop()
        if owned:
            db.dispose()

    app = FastAPI(
        title="Handover",
        summary="Plans, runs and proves transfers of people in custody.",
        version="1",
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.database = db
    app.state.runtime = rt
    app.state.signer = signer
    app.state.notification_hours = settings.notification_hours
    install_problem_handlers(app)
    app.add_exception_handler(Denied, _denied)
    app.include_router(api_router, prefix="/api/v1", tags=["v1"])
    app.include_router(write_router, prefix="/api/v1", tags=["v1 writes"])
    app.include_router(movements.router, prefix="/api/v1", tags=["v1 movements"])
    app.include_router(handovers.router, prefix="/api/v1", tags=["v1 handovers"])
    app.include_router(operations.router, prefix="/api/v1", tags=["v1 operations"])
    app.include_router(planning.router, prefix="/api/v1", tags=["v1 planning"])
    app.include_router(access_log.router, prefix="/api/v1", tags=["v1 access log"])
    app.include_router(repatriation_router, prefix="/api/v1", tags=["v1 repatriation"])
    app.include_router(report_api.router, prefix="/api/v1", tags=["v1 report"])
    app.include_router(log_proofs_router, prefix="/api/v1", tags=["v1 log"])
    app.include_router(log_tiles_router, prefix="/log", tags=["log (C2SP tlog-tiles)"])
    app.include_router(web_router, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(LanguageMiddleware, languages=available_languages())
    enforce(app)
    return app
