"""Conditional GET: an ``ETag`` on every answer, and 304 Not Modified when it still holds.

A reader who already has an answer (a browser, a dashboard polling, a harvester) sends
its tag back in ``If-None-Match``; when the answer is byte for byte the same, the server
says so in a 304 with no body instead of sending megabytes again. The tag is a hash of
the bytes, so it changes exactly when the answer does (new data, another format) and
needs no bookkeeping of versions. Answers that stream in several pieces, and those that
carry a tag of their own (static files), pass through untouched.
"""

from __future__ import annotations

import hashlib

#: Request methods whose answers get a tag. Not HEAD: its answer has no body to hash, and
#: a tag must be the one the GET would carry.
TAGGED_METHODS = {"GET"}


def entity_tag(body: bytes) -> bytes:
    """A strong tag for these bytes: 128 bits of BLAKE2b, quoted."""
    return b'"' + hashlib.blake2b(body, digest_size=16).hexdigest().encode("ascii") + b'"'


def matches(if_none_match: bytes, tag: bytes) -> bool:
    """Whether ``If-None-Match`` names ``tag`` (weak comparison, as RFC 9110 asks) or is ``*``."""
    wanted = {item.strip().removeprefix(b"W/") for item in if_none_match.split(b",")}
    return b"*" in wanted or tag in wanted


class ConditionalGet:
    """Tags successful GET answers sent in one piece; answers 304 on a match."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] not in TAGGED_METHODS:
            await self.app(scope, receive, send)
            return
        if_none_match = dict(scope["headers"]).get(b"if-none-match")
        start: dict | None = None

        async def send_tagged(message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                if message["status"] == 200 and b"etag" not in headers:
                    start = message  # held until the body shows whether it comes whole
                    return
                await send(message)
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            held, start = start, None
            if message.get("more_body", False):  # streamed: no tag
                await send(held)
                await send(message)
                return
            tag = entity_tag(message.get("body", b""))
            headers = [*held.get("headers", []), (b"etag", tag)]
            if if_none_match is not None and matches(if_none_match, tag):
                kept = [(name, value) for name, value in headers if name != b"content-length"]
                await send({**held, "status": 304, "headers": kept})
                await send({"type": "http.response.body", "body": b""})
                return
            await send({**held, "headers": headers})
            await send(message)

        await self.app(scope, receive, send_tagged)
