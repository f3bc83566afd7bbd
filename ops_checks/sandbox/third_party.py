"""Discord and Grafana stand-ins: respx routes that record what was sent and answer like the real services."""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx
import respx

GRAFANA_URL = "http://grafana.sandbox.invalid:3000"
DEFAULT_DASHBOARDS: tuple[dict[str, Any], ...] = (
    {"uid": "autonomous-alpha", "title": "Autonomous Alpha — Trading", "type": "dash-db"},
    {"uid": "exchange-clock", "title": "Exchange Clock Drift", "type": "dash-db"},
)


@dataclass
class HookKnobs:
    discord_status: int = 204
    discord_unreachable: bool = False  # the connection is refused: the error names the URL (without its query)
    grafana_database: str = "ok"
    dashboards: list[dict[str, Any]] = field(default_factory=lambda: [dict(d) for d in DEFAULT_DASHBOARDS])


class HookServices:
    """A Discord webhook and a Grafana instance behind one respx router (use ``transport()``)."""

    def __init__(self, *, discord_url: str | None = None, grafana_token: str | None = None) -> None:
        self.discord_url = (
            discord_url or f"https://discord.com/api/webhooks/{secrets.randbelow(10**18)}/{secrets.token_urlsafe(32)}"
        )
        self.grafana_url = GRAFANA_URL
        self.grafana_token = grafana_token or "glsa_" + secrets.token_hex(16)
        self.knobs = HookKnobs()
        self.messages: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
        self.router.post(self.discord_url).mock(side_effect=self._discord)
        self.router.get(f"{GRAFANA_URL}/api/health").mock(side_effect=self._grafana_health)
        self.router.get(f"{GRAFANA_URL}/api/search").mock(side_effect=self._grafana_search)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.router.handler)

    def _discord(self, request: httpx.Request) -> httpx.Response:
        if self.knobs.discord_unreachable:
            raise httpx.ConnectError(
                f"[Errno 111] Connection refused: {request.url.copy_with(query=None)}", request=request
            )
        try:
            payload = json.loads(request.content or b"{}")
        except ValueError:
            return httpx.Response(400, json={"message": "Cannot send an empty message", "code": 50006})
        if self.knobs.discord_status == 404:
            return httpx.Response(404, json={"message": "Unknown Webhook", "code": 10015})
        if not 200 <= self.knobs.discord_status < 300:
            return httpx.Response(self.knobs.discord_status, json={"message": "error"})
        with self._lock:
            self.messages.append(payload)
        return httpx.Response(self.knobs.discord_status)

    def _grafana_health(self, request: httpx.Request) -> httpx.Response:
        db = self.knobs.grafana_database
        return httpx.Response(200 if db == "ok" else 503, json={"database": db, "version": "10.4.0-sandbox"})

    def _grafana_search(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != f"Bearer {self.grafana_token}":
            return httpx.Response(401, json={"message": "Unauthorized"})
        return httpx.Response(200, json=list(self.knobs.dashboards))
