"""Limits on a request's body, checked before Gradio reads it: Gradio parses the JSON and does per-file work in
its event loop, so one oversized request would stall every other client (page loads included) while it runs.

``RequestLimits`` is an ASGI middleware (``launch_options`` installs it): a body larger than ``MAX_BODY_BYTES``
(uploads excepted: Gradio streams those to disk under its own per-file limit), JSON nested deeper than
``MAX_DEPTH``, holding a list longer than ``MAX_LIST_ITEMS`` (the most photos a gallery is used for: the album's;
the other galleries' bound, and each gallery's, is ``demo.gradio_internals.request_files``), more than
``MAX_NODES`` values, ``MAX_FILES`` file entries or a string longer than ``MAX_STRING_CHARS`` is refused with a
message, as are the routes of Gradio features the demo does not use (who may start sessions and upload how much is
``demo.gradio_internals.fair_use``, installed after this). One webcam frame is let through: a streamed frame comes
as a JPEG data URL under ``url``, within ``MAX_FRAME_CHARS`` (and again in the event's data: ``FRAME_COPIES``), and
may take the body past ``MAX_BODY_BYTES`` by its own length (its pixels are checked when it is decoded,
``demo.computing.live_pooling``).
"""
from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from ..computing.computations import MAX_ALBUM, MAX_GROUP

MAX_BODY_BYTES = 1 << 20  # an event's JSON is a few kB per photo; a drawing is a data URL of at most 32 kB
MAX_LIST_ITEMS = max(MAX_GROUP, MAX_ALBUM)  # the most photos any gallery is used for (the album)
MAX_DEPTH = 16  # a gallery entry is 4 levels deep inside an event's data
MAX_NODES = 8192  # values in one request's JSON: the model switch's full galleries (5 x 64 + 200) take about 5,800
MAX_FILES = 6 * MAX_GROUP + MAX_ALBUM  # file entries in one request: the model switch's galleries, a pad's few
MAX_STRING_CHARS = 1 << 15  # one string: a tab's group labels are the longest a user types (uploads' paths: 1024)
# a streamed webcam frame (Gradio's page sends it as {"url": "data:image/jpeg;base64,..."}): a JPEG of a frame of
# demo.computing.live_pooling.MAX_FRAME_PIXELS (1920 x 1080) at the browser's quality is 0.2-1.5 MB; its pixels are
# checked when it is decoded, so a larger frame gets a status line rather than a refused request (a camera stuck)
MAX_FRAME_BYTES = 4 << 20
MAX_FRAME_CHARS = len("data:image/jpeg;base64,") + 4 * ((MAX_FRAME_BYTES + 2) // 3)
FRAME_COPIES = 2  # Gradio's page sends a streamed frame as the input's value and again as the event's data
FRAME_URL = re.compile(r"data:image/(?:jpeg|png);base64,[A-Za-z0-9+/]*={0,2}")
FRAME_IN_BODY = re.compile(rb'"url":\s*"data:image/(?:jpeg|png);base64,[A-Za-z0-9+/]*={0,2}"')
DRAIN_BYTES = 64 << 20  # a refused body is read to its end (and dropped) up to this size, then the connection closed
UPLOAD_ROUTE = "/gradio_api/upload"
# Gradio features the demo does not use; the screen recording route would run ffmpeg on a client's video
UNUSED_ROUTES = ("/gradio_api/process_recording", "/gradio_api/vibe-", "/gradio_api/undo-vibe-edit")

PER_GALLERY = f"{MAX_ALBUM} photos in the album and {MAX_GROUP} in any other gallery"
DEEP = f"the request's JSON nests deeper than {MAX_DEPTH} levels; send the values the API page (?view=api) shows"
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


class RequestRefused(Exception):
    """A request over the limits: the HTTP status, a message for the client, and whether some of the body is
    still unread."""

    def __init__(self, status: int, message: str, unread: bool = False) -> None:
        super().__init__(message)
        self.status, self.message, self.unread = status, message, unread


def check_json(body: bytes) -> Any:
    """The parsed JSON body, or RequestRefused when it nests deeper than MAX_DEPTH or holds a long list (a body
    that is not JSON is left to the app, which refuses it: None)."""
    try:
        value = json.loads(body)
    except RecursionError:
        raise RequestRefused(413, DEEP) from None
    except ValueError:
        return None
    check_value(value)
    return value


def check_value(value: Any) -> None:
    """Raise RequestRefused for a list longer than MAX_LIST_ITEMS, nesting deeper than MAX_DEPTH, more than
    MAX_NODES values or MAX_FILES file entries in all, or a string longer than MAX_STRING_CHARS (but one webcam
    frame: an image data URL under ``url`` within MAX_FRAME_CHARS, FRAME_COPIES times at most)."""
    stack, nodes, files, frame, copies = [(value, 1, None)], 0, 0, None, 0
    while stack:
        item, depth, key = stack.pop()
        nodes += 1
        if depth > MAX_DEPTH:
            raise RequestRefused(413, DEEP)
        if nodes > MAX_NODES:
            raise RequestRefused(413, f"the request holds more than {MAX_NODES} values; send the values the API "
                                      "page (?view=api) shows")
        if isinstance(item, str) and len(item) > MAX_STRING_CHARS and not (
                key == "url" and copies < FRAME_COPIES and len(item) <= MAX_FRAME_CHARS
                and (item == frame if frame is not None else FRAME_URL.fullmatch(item))):
            raise RequestRefused(413, f"the request holds a text of {len(item)} characters: this demo takes at most "
                                      f"{MAX_STRING_CHARS} (a file's path, a model's name, group labels) or one "
                                      f"webcam frame of {MAX_FRAME_BYTES >> 20} MB")
        if isinstance(item, str) and len(item) > MAX_STRING_CHARS:
            frame, copies = item, copies + 1
        if isinstance(item, list):
            if len(item) > MAX_LIST_ITEMS:
                raise RequestRefused(
                    413, f"the request holds a list of {len(item)} values: this demo uses at most {PER_GALLERY}; "
                    "send fewer")
            stack.extend((v, depth + 1, None) for v in item)
        elif isinstance(item, dict):
            files += "path" in item
            if files > MAX_FILES:
                raise RequestRefused(413, f"the request holds more than {MAX_FILES} files: this demo uses at most "
                                          f"{PER_GALLERY}; send fewer")
            stack.extend((v, depth + 1, k) for k, v in item.items())


class RequestLimits:
    """ASGI middleware: refuse oversized or over-long request bodies before the app reads them."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, with its body replayed, or answer with the reason it is refused."""
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if any(path.startswith(route) for route in UNUSED_ROUTES):
            return await respond(send, 404, "this demo does not offer that route")
        if scope["method"] not in ("POST", "PUT", "PATCH") or path.rstrip("/").endswith(UPLOAD_ROUTE):
            return await self.app(scope, receive, send)
        try:
            body = await read_body(scope, receive)
            if not header(scope, b"content-type").startswith(b"multipart/"):  # FastAPI reads any other body as JSON
                check_json(body)
        except RequestRefused as refused:
            if refused.unread:
                await drain(receive)
            return await respond(send, refused.status, refused.message)
        await self.app(scope, replay(body, receive), send)


def client_address(scope: Scope) -> str:
    """The client's address as the server sees it ("unknown" when the server does not say)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def header(scope: Scope, name: bytes) -> bytes:
    """A request header's value (lower-case name), b"" when absent."""
    return next((value for key, value in scope.get("headers", ()) if key.lower() == name), b"")


async def read_body(scope: Scope, receive: Receive) -> bytes:
    """The whole body, or RequestRefused as soon as it is known to exceed MAX_BODY_BYTES."""
    too_large = RequestRefused(413, f"the request body is larger than {MAX_BODY_BYTES >> 10} kB: upload images "
                                    "through gradio_api/upload and send their paths, at most "
                                    f"{PER_GALLERY}", unread=True)
    most = MAX_BODY_BYTES + FRAME_COPIES * MAX_FRAME_CHARS  # a webcam frame may come on top (``beside_frame``)
    declared = header(scope, b"content-length")
    if declared.isdigit() and int(declared) > most:
        raise too_large
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > most:
            raise too_large
        if not message.get("more_body"):
            break
    body = b"".join(chunks)
    if len(body) > MAX_BODY_BYTES and len(body) - beside_frame(body) > MAX_BODY_BYTES:
        raise RequestRefused(413, too_large.message)
    return body


def beside_frame(body: bytes) -> int:
    """The length of the one webcam frame's data URLs in a body, each copy of it (0 when it holds none)."""
    found = [m.group(0) for m, _ in zip(FRAME_IN_BODY.finditer(body), range(FRAME_COPIES), strict=False)]
    return sum(len(copy) for copy in found if copy.split(b'"')[3] == found[0].split(b'"')[3])


async def drain(receive: Receive, limit: int = DRAIN_BYTES) -> None:
    """Read and drop the rest of a refused body (up to ``limit``), so that the client reads the answer instead of
    a connection reset."""
    dropped = 0
    while dropped <= limit:
        message = await receive()
        dropped += len(message.get("body", b""))
        if message["type"] == "http.disconnect" or not message.get("more_body"):
            return


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the app the body already read, then passes on what the client sends next."""
    sent = False

    async def again() -> dict:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return again


async def respond(send: Send, status: int, message: str) -> None:
    """A JSON error response; Gradio's page shows its ``detail``."""
    body = json.dumps({"detail": message, "error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
