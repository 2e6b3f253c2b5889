"""The ASGI application: Open311 GeoReport v2 under /open311/v2, the staff API under /staff."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from citycheck.listen.settings import HotlineSettings
from citycheck.listen.store import Hotline
from citycheck.web.hotline import (
    open311_discovery,
    open311_requests,
    open311_services,
    open311_tokens,
    staff,
)
from citycheck.web.hotline.deps import RateLimiter
from citycheck.web.hotline.render import Open311Error, error_response, format_of, to_xml

log = logging.getLogger(__name__)

OPEN311_PREFIX = "/open311/v2"


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 400 in GeoReport's error format."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        fmt = "xml" if path.endswith(".xml") else "json"
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        too_big = f"request body larger than {self.max_bytes} bytes"
        if length is not None:
            try:
                n = int(length)
            except ValueError:
                n = self.max_bytes + 1
            if n > self.max_bytes:
                await _send_error(send, fmt, 400, too_big)
                return
        seen = 0
        started = False

        async def limited() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_bytes:
                    raise _BodyTooLargeError()
            return msg

        async def tracking_send(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, limited, tracking_send)
        except _BodyTooLargeError:
            if not started:
                await _send_error(send, fmt, 400, too_big)


class _BodyTooLargeError(Exception):
    pass


async def _send_error(send: Send, fmt: str, status: int, description: str) -> None:
    body_list = [{"code": status, "description": description}]
    if fmt == "xml":
        body = to_xml("errors", body_list)
        ctype = b"text/xml; charset=utf-8"
    else:
        import json

        body = json.dumps(body_list).encode()
        ctype = b"application/json; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def create_app(
    settings: HotlineSettings | None = None, *, hotline: Hotline | None = None
) -> FastAPI:
    """Build the app over ``hotline`` (or a new one from ``settings``)."""
    settings = settings or (hotline.settings if hotline else HotlineSettings())
    hotline = hotline or Hotline(settings)
    app = FastAPI(
        title="citycheck hotline",
        version="0.1.0",
        description=(
            "12345 citizen service hotline: Open311 GeoReport v2 (XML and JSON) under "
            f"{OPEN311_PREFIX}, and the staff API under /staff."
        ),
    )
    app.state.hotline = hotline
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute)
    for r in (open311_discovery, open311_services, open311_requests, open311_tokens):
        app.include_router(r.router, prefix=OPEN311_PREFIX)
    app.include_router(staff.router)

    @app.exception_handler(Open311Error)
    async def _open311(request: Request, exc: Open311Error):  # type: ignore[no-untyped-def]
        return error_response(format_of(request), exc.status, exc.description)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):  # type: ignore[no-untyped-def]
        if request.url.path.startswith(OPEN311_PREFIX):
            msg = "; ".join(
                f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}"
                for e in exc.errors()
            )
            return error_response(format_of(request), 400, msg or "invalid request")
        detail = [
            {
                "loc": [str(p) for p in e.get("loc", ())],
                "msg": str(e.get("msg")),
                "type": str(e.get("type")),
            }
            for e in exc.errors()
        ]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):  # type: ignore[no-untyped-def]
        if request.url.path.startswith(OPEN311_PREFIX):
            status = exc.status_code if exc.status_code in (403, 404) else 400
            if exc.status_code == 405:
                status = 405
            return error_response(format_of(request), status, str(exc.detail))
        return JSONResponse(
            {"detail": exc.detail},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app


def app_from_env() -> FastAPI:
    """uvicorn factory: settings from the environment (CITYCHECK_HOTLINE_*)."""
    return create_app(HotlineSettings())
