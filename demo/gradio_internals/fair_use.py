"""Who may use how much of the server, checked before Gradio reads a request (``FairUse``, an ASGI middleware that
``launch_options`` installs after ``RequestLimits``, so bodies are already bounded):

- every page sent carries a page token (a cookie, ``page_tokens``);
- a request that would start a session is admitted by its page's token, else by its address's allowance, and an
  event joins the queue only while its session has few events there (``session_admission``);
- an upload is counted against its sender's byte budget and reserved under the upload folder's cap, which sweeps
  uploads no event used (``upload_space``);
- Gradio's deep-link route, which writes a session's values to the upload folder on every call, is refused (the
  demo has no deep links).
"""
from __future__ import annotations

import asyncio
import json
from typing import Any

from .page_tokens import PageTokens, cookie_value, set_cookie
from .request_limits import (
    Receive,
    RequestRefused,
    Scope,
    Send,
    check_json,
    client_address,
    drain,
    header,
    read_body,
    replay,
    respond,
)
from .session_admission import (
    TOO_MANY,
    SessionAdmission,
    busy_refusal,
    session_in_form,
    session_in_json,
    starts_per_call,
)
from .upload_space import (
    MIN_UPLOAD_COST,
    SWEEP_EVERY_S,
    UPLOAD_BYTES_PER_MINUTE,
    ByteBudgets,
    UploadSpace,
    shared_space,
)

UPLOAD_ROUTE = "/gradio_api/upload"
JOIN_ROUTE = "/gradio_api/queue/join"
REFUSED_ROUTES = ("/gradio_api/deep_link",)
NO_LENGTH = "an upload must declare its size (Content-Length), as browsers and gradio_client do"
OVER_BUDGET = (f"too many uploads from you: at most {UPLOAD_BYTES_PER_MINUTE >> 20} MB a minute (a request counts "
               f"at least {MIN_UPLOAD_COST >> 10} kB); wait a minute and retry")
NO_ROOM = "the server's upload space is full: retry in a few minutes"


class FairUse:
    """ASGI middleware: page tokens, new sessions and queue places per client, upload budgets and the upload cap."""

    def __init__(self, app: Any, space: UploadSpace | None = None) -> None:
        self.app, self.tokens = app, PageTokens()
        self.admission, self.budgets = SessionAdmission(tokens=self.tokens), ByteBudgets()
        self._space, self._sweeper = space, None

    async def sweep_forever(self, scope: Scope) -> None:
        """Every ``SWEEP_EVERY_S``, delete the uploads no event used in time, whether or not uploads come."""
        while True:
            await asyncio.sleep(SWEEP_EVERY_S)
            self.space.sweep_if_due()
            forget_deleted(scope, self.space)

    @property
    def space(self) -> UploadSpace:
        if self._space is None:
            self._space = shared_space()
        return self._space

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer why it is refused."""
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self.sweep_forever({"app": scope["app"]}))
        path, method = scope.get("path", ""), scope["method"]
        if any(path.startswith(route) for route in REFUSED_ROUTES):
            return await respond(send, 404, "this demo does not offer that route")
        if method == "GET":
            return await self.app(scope, receive, self.with_page_token(scope, send))
        if method != "POST":
            return await self.app(scope, receive, send)
        if path.rstrip("/").endswith(UPLOAD_ROUTE):
            return await self.upload(scope, receive, send)
        try:
            body = await read_body(scope, receive)
            if header(scope, b"content-type").startswith(b"multipart/"):
                session = session_in_form(body)
            else:
                session = session_in_json(check_json(body))
            if session is not None or starts_per_call(path):
                if not self.admission.admit(client_address(scope), session, self.token(scope)):
                    raise RequestRefused(429, TOO_MANY)
            if session is not None and path.rstrip("/").endswith(JOIN_ROUTE):
                refusal = busy_refusal(scope["app"].get_blocks()._queue, session)
                if refusal:
                    raise RequestRefused(429, refusal)
        except RequestRefused as refused:
            return await respond(send, refused.status, refused.message)
        await self.app(scope, replay(body, receive), send)

    def token(self, scope: Scope) -> str | None:
        """The page token a request carries (its cookie), if any."""
        return cookie_value(scope.get("headers", []))

    def with_page_token(self, scope: Scope, send: Send) -> Send:
        """``send`` that gives a page (an HTML answer) a new page token."""
        secure = scope.get("scheme") == "https" or header(scope, b"x-forwarded-proto") == b"https"

        async def sending(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers):
                    message = {**message, "headers": [*headers, (b"set-cookie", set_cookie(self.tokens.issue(),
                                                                                           secure))]}
            await send(message)

        return sending

    async def upload(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An upload within its sender's budget and the folder's cap: the files Gradio wrote are noted."""
        declared = header(scope, b"content-length")
        if not declared.isdigit():
            return await refuse_upload(receive, send, 411, NO_LENGTH)
        size = int(declared)
        page = self.tokens.page_of(self.token(scope))
        sender = f"page {page}" if page else f"address {client_address(scope)}"
        if not self.budgets.take(sender, max(size, MIN_UPLOAD_COST)):
            return await refuse_upload(receive, send, 429, OVER_BUDGET)
        space = self.space
        if not space.reserve(size):
            return await refuse_upload(receive, send, 507, NO_ROOM)
        chunks: list[bytes] = []

        async def noting(message: dict) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, noting)
        finally:
            space.received(size, uploaded_paths(b"".join(chunks)))
            forget_deleted(scope, space)


async def refuse_upload(receive: Receive, send: Send, status: int, message: str) -> None:
    """Refuse an upload: its body is read and dropped (up to request_limits.DRAIN_BYTES) so that the client reads
    the answer instead of a reset connection."""
    await drain(receive)
    await respond(send, status, message)


def uploaded_paths(body: bytes) -> list[str]:
    """The paths in Gradio's answer to an upload (a JSON list of them); [] for anything else."""
    try:
        paths = json.loads(body)
    except ValueError:
        return []
    return [p for p in paths if isinstance(p, str)] if isinstance(paths, list) else []


def forget_deleted(scope: Scope, space: UploadSpace) -> None:
    """Gradio remembers every upload's path for its hourly sweep: forget those swept here."""
    if space.deleted:
        scope["app"].get_blocks().upload_file_set.difference_update(space.deleted)
        space.deleted.clear()
