"""Page tokens: each page the server sends carries a cookie that lets the sessions its page starts in (a tab, a
reload: ``SESSIONS_PER_PAGE``) in, whatever its address has left, and gives its uploads a byte budget of their own.
Behind a proxy every visitor may share one address; a client that floods without loading pages spends only its
address's allowance, not the strangers' (``demo.gradio_internals.fair_use``).

A token is ``issued.nonce.mac`` (hex): an HMAC under a key made for this process, so that a client cannot make
one; it is valid for ``TOKEN_TTL_S`` after the page was sent. Its uses are counted per nonce (at most
``MAX_TOKENS`` remembered, the least recently used forgotten first)."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable

COOKIE = "mlvae_page"
TOKEN_TTL_S = 3600  # a page's token admits its sessions and keys its uploads for an hour
SESSIONS_PER_PAGE = 4  # new sessions one page load may start (the page's own, reconnects, a second tab)
MAX_TOKENS = 50_000  # tokens whose uses are counted at once (~150 bytes each)
MAX_TOKEN_CHARS = 80


class PageTokens:
    """Issues the pages' tokens and counts the sessions each has started."""

    def __init__(self, clock: Callable[[], float] = time.time, sessions_per_page: int = SESSIONS_PER_PAGE,
                 ttl_s: float = TOKEN_TTL_S, remembered: int = MAX_TOKENS) -> None:
        self.key, self.clock = secrets.token_bytes(32), clock
        self.sessions_per_page, self.ttl_s, self.remembered = sessions_per_page, ttl_s, remembered
        self.uses: OrderedDict[str, int] = OrderedDict()

    def _mac(self, issued: str, nonce: str) -> str:
        return hmac.new(self.key, f"{issued}.{nonce}".encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self) -> str:
        """A new page's token."""
        issued, nonce = f"{int(self.clock()):x}", secrets.token_hex(8)
        return f"{issued}.{nonce}.{self._mac(issued, nonce)}"

    def page_of(self, token: str | None) -> str | None:
        """The page (its nonce) a token was issued to, None when it is not one of this server's or has expired."""
        if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
            return None
        issued, nonce, mac = token.split(".")
        try:
            age = self.clock() - int(issued, 16)
        except ValueError:
            return None
        if not (0 <= age <= self.ttl_s and hmac.compare_digest(mac, self._mac(issued, nonce))):
            return None
        return nonce

    def redeem(self, token: str | None) -> bool:
        """Whether a valid token may start one more session (counted when it may)."""
        page = self.page_of(token)
        if page is None:
            return False
        used = self.uses.pop(page, 0)
        self.uses[page] = used + (used < self.sessions_per_page)
        if len(self.uses) > self.remembered:
            self.uses.popitem(last=False)
        return used < self.sessions_per_page


def cookie_value(headers: list[tuple[bytes, bytes]], name: str = COOKIE) -> str | None:
    """The value of cookie ``name`` in a request's headers, None when absent."""
    for key, value in headers:
        if key.lower() != b"cookie":
            continue
        for part in value.decode("latin-1").split(";"):
            cookie, _, text = part.strip().partition("=")
            if cookie == name:
                return text.strip()[:MAX_TOKEN_CHARS + 1]
    return None


def set_cookie(token: str, secure: bool) -> bytes:
    """A Set-Cookie header's value for a page's token: the page's own fetches send it back (over HTTPS, also when
    the page is embedded in another site's frame, as on a Space)."""
    where = "SameSite=None; Secure; Partitioned" if secure else "SameSite=Lax"
    return f"{COOKIE}={token}; Path=/; Max-Age={TOKEN_TTL_S}; HttpOnly; {where}".encode()
