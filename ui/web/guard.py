"""Checks in front of every request Gradio serves: the Host header (DNS rebinding) and failed logins.

Both are small ASGI middlewares passed to Gradio's FastAPI app at launch. Starlette's TrustedHostMiddleware
matches host names only, while any IP address must pass here (see `HostGuard`), and rate limiters such as
slowapi count every request, while only failed logins may count here; hence these two classes.
"""

from __future__ import annotations

import ipaddress
import math
import socket
import time
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARD_BINDS = ("0.0.0.0", "::", "")


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the server to this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_names(bound: str, extra: Iterable[str] = ()) -> set[str]:
    """Host names a request may name: the loopback names, the name bound, `extra` (--allowed-host, a proxy's
    public name) and, for a wildcard bind, this machine's own names."""
    names = {*LOOPBACK_NAMES, *extra}
    names |= {socket.gethostname(), socket.getfqdn()} if bound in WILDCARD_BINDS else {bound}
    return {name.lower() for name in names if name}


class HostGuard:
    """Answers 400 to a request whose Host header is not one of `names` and is no IP address.

    A DNS-rebinding page makes the browser send its own host name (rebind.attacker.test) to this server; an
    IP address cannot be rebound that way, since a page at http://10.0.0.5/ is that server's own origin.
    """

    def __init__(self, app: ASGIApp, names: Iterable[str]) -> None:
        self.app = app
        self.names = {name.lower() for name in names}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not self._allowed(scope):
            response = PlainTextResponse("Invalid host header: this server answers only to the names it was "
                                         "started for (reportqa serve --host / --allowed-host)", status_code=400)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        header = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        try:
            host = urlsplit(f"//{header}").hostname or ""
        except ValueError:  # a malformed IPv6 literal
            return False
        if host in self.names:
            return True
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return False
        return True


class FailedLogins:
    """Failed logins per client address, shared by the login page (`LoginThrottle`) and the HTTP API's
    password check (ui/web/api.py), so that guesses on one do not go free on the other. After `free` failures
    each further try must wait `base` seconds, doubling with every failure up to `cap`."""

    MAX_CLIENTS = 4096  # beyond this many remembered clients, the ones whose delay has passed are forgotten

    def __init__(self, free: int = 5, base: float = 1.0, cap: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.free, self.base, self.cap, self.clock = free, base, cap, clock
        self.failures: dict[str, tuple[int, float]] = {}  # client -> (failed tries, when the last one began)

    def wait(self, client: str) -> float:
        """Seconds `client` must still wait before its next try (0 when it may try now)."""
        failed, last = self.failures.get(client, (0, 0.0))
        return max(self._delay(failed) - (self.clock() - last), 0.0)

    def failed(self, client: str) -> None:
        self._forget_stale()
        failed, _ = self.failures.get(client, (0, 0.0))
        self.failures[client] = (failed + 1, self.clock())

    def succeeded(self, client: str) -> None:
        self.failures.pop(client, None)

    def refusal(self, client: str) -> PlainTextResponse | None:
        """The 429 answer for a client that must wait, else None."""
        wait = self.wait(client)
        if wait <= 0:
            return None
        seconds = math.ceil(wait)
        return PlainTextResponse(f"too many failed logins: try again in {seconds} s", status_code=429,
                                 headers={"Retry-After": str(seconds)})

    def _delay(self, failed: int) -> float:
        return 0.0 if failed < self.free else min(self.base * 2 ** (failed - self.free), self.cap)

    def _forget_stale(self) -> None:
        if len(self.failures) >= self.MAX_CLIENTS:
            now = self.clock()
            self.failures = {c: (n, t) for c, (n, t) in self.failures.items() if now - t < self._delay(n)}


class LoginThrottle:
    """Slows repeated failed logins per client address (`FailedLogins`); while a client must wait, its tries
    are answered 429 with Retry-After, the password unchecked. A try counts as failed from its start (parallel
    tries cannot slip through together) until it succeeds, which forgets the client.

    Behind a reverse proxy every client has the proxy's address: the throttle then holds for all of them.
    """

    def __init__(self, app: ASGIApp, failures: FailedLogins | None = None, **limits: float) -> None:
        self.app = app
        self.logins = failures or FailedLogins(**limits)  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != "/login":
            await self.app(scope, receive, send)
            return
        client = client_address(scope)
        if (response := self.logins.refusal(client)) is not None:
            await response(scope, receive, send)
            return
        self.logins.failed(client)
        status: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, receive, watch)
        if status == [200]:
            self.logins.succeeded(client)


def client_address(scope: Scope) -> str:
    return (scope.get("client") or ("unknown",))[0]
