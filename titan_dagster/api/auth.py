"""Who may read: anyone on this machine, or with TITAN_API_TOKEN, holders of the token.
GET /health stays open, for load balancers and monitors."""

import hmac
import ipaddress

from starlette.responses import JSONResponse

TOKEN_ENV = "TITAN_API_TOKEN"
OPEN_PATHS = frozenset({"/health"})


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to any interface
        return False


class BearerToken:
    """ASGI middleware: every path but OPEN_PATHS needs `Authorization: Bearer <token>`,
    or gets a 401. Around the whole app, so that no route, not even a 404 or the OpenAPI
    document, answers without it."""

    def __init__(self, app, token: str):
        self.app = app
        self._token = token.encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        response = JSONResponse({"detail": "missing or wrong bearer token"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        await response(scope, receive, send)

    def _allowed(self, scope) -> bool:
        header = dict(scope["headers"]).get(b"authorization", b"")
        scheme, _, credentials = header.partition(b" ")
        # Constant time: how far a guess matched must not show in how long it took.
        return scheme.lower() == b"bearer" and hmac.compare_digest(credentials, self._token)
