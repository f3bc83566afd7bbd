"""Send one signed test signal to the bot's TradingView webhook, exactly as the real bot expects it.

The real bot (``app/api/webhook.py``, ``app/schemas/signal.py``, ``app/auth/security.py``): ``POST
/webhook/tradingview`` with the raw JSON body ``{"signal_id", "symbol", "side", "price", "quantity"}`` (no other
field: ``extra="forbid"``; price and quantity are Decimal *strings*), signed in ``X-TradingView-Signature`` with
the hex HMAC-SHA256 of the raw body keyed with ``SOVEREIGN_SECRET``. It answers 200 ``{"status": "accepted",
"correlation_id": <uuid>, "signal_id", "trade_decision": {"status", "action"}, ...}``, 401 with ``SEC-00x`` on a
bad signature, 409 on a duplicate ``signal_id``, 422 on a validation error.

All names come from ``Target.profile``. Signals the suite sends carry ``signal_id`` ``OPSCHECK-<hex>``.

Stable API (other sections rely on it): ``send_signal(t, ...) -> SignalReply``, ``signal_body``, ``sign``,
``TEST_SIGNAL_PREFIX``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ops_checks.access.config import Target
from ops_checks.access.profile import BotProfile
from ops_checks.core import netfail
from ops_checks.core.http import HttpError, Recorder, request
from ops_checks.core.result import Cause, Evidence
from ops_checks.core.secret import Secret

TEST_SIGNAL_PREFIX = "OPSCHECK-"
DEFAULT_SYMBOL = "BTCZAR"
DEFAULT_PRICE = Decimal("1000000")
DEFAULT_QUANTITY = Decimal("0.0001")


def new_signal_id() -> str:
    return f"{TEST_SIGNAL_PREFIX}{uuid.uuid4().hex[:20]}"


def signal_body(
    profile: BotProfile,
    *,
    signal_id: str,
    symbol: str = DEFAULT_SYMBOL,
    side: str = "BUY",
    price: Decimal | str = DEFAULT_PRICE,
    quantity: Decimal | str = DEFAULT_QUANTITY,
    extra: dict[str, Any] | None = None,
) -> bytes:
    """The raw JSON body, with the profile's fields only (decimals as strings: the bot rejects floats)."""
    values = {"signal_id": signal_id, "symbol": symbol, "side": side, "price": str(price), "quantity": str(quantity)}
    body = {name: values[name] for name in profile.signal_fields if name in values}
    body.update(extra or {})
    return json.dumps(body, separators=(",", ":")).encode()


def sign(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of the raw body (app/auth/security.py compute_hmac_signature)."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


@dataclass
class SignalReply:
    """What the bot answered. ``error`` is a one-line reason when there was no usable answer."""

    signal_id: str
    secret_var: str
    status_code: int | None = None
    body: Any = None
    error: str | None = None
    cause: Cause | None = None  # no HTTP answer at all: the bot's API unreachable (the cause 1.1.6 names too)
    evidence: list[Evidence] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"SignalReply({self.signal_id!r}, HTTP {self.status_code}, error={self.error!r})"

    @property
    def answer(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) else {}

    @property
    def accepted(self) -> bool:
        return self.status_code == 200 and self.answer.get("status") == "accepted"

    @property
    def correlation_id(self) -> str | None:
        cid = self.answer.get("correlation_id")
        return str(cid) if cid else None

    @property
    def error_code(self) -> str | None:
        """The bot's error code (SEC-001…004, VAL-00x, IDP-001, AUD-001, DB-500) or None."""
        code = self.answer.get("error_code")
        if code is None and isinstance(self.answer.get("detail"), dict):
            code = self.answer["detail"].get("error_code")
        return str(code) if code else None

    @property
    def trade_decision(self) -> str | None:
        """The real bot's ``trade_decision.status`` (APPROVED/REJECTED), or None."""
        td = self.answer.get("trade_decision")
        return str(td.get("status")) if isinstance(td, dict) and td.get("status") else None

    @property
    def policy_decision(self) -> str | None:
        """A runbook §4.1 PolicyDecision in the answer (the reference bot returns one; the real bot does not)."""
        pd = self.answer.get("policy_decision")
        if isinstance(pd, dict):
            pd = pd.get("decision")
        return str(pd) if pd else None

    def describe(self) -> str:
        if self.error:
            return self.error
        code = f" {self.error_code}" if self.error_code else ""
        return f"HTTP {self.status_code}{code}"


def send_signal(
    t: Target,
    *,
    secret: Secret | None = None,
    secret_var: str | None = None,
    signal_id: str | None = None,
    symbol: str = DEFAULT_SYMBOL,
    side: str = "BUY",
    price: Decimal | str = DEFAULT_PRICE,
    quantity: Decimal | str = DEFAULT_QUANTITY,
    body: bytes | None = None,
    recorder: Recorder | None = None,
    timeout: float = 5.0,
) -> SignalReply:
    """Sign and POST one test signal. Never raises: transport failures come back as ``SignalReply.error``.

    The signing key is ``secret`` if given, else the env var ``secret_var`` (default: the profile's
    ``signal_secret_var``, SOVEREIGN_SECRET). ``body`` overrides the built body (to test rejections).
    """
    p = t.profile
    var = secret_var or p.signal_secret_var
    key = secret if secret is not None else t.secret(var)
    sid = signal_id or new_signal_id()
    reply = SignalReply(signal_id=sid, secret_var=var if secret is None else "given secret")
    if not key:
        reply.error = f"{var} is not set: cannot sign the test signal"
        return reply
    t.redactor.register(key)
    raw = (
        body
        if body is not None
        else signal_body(p, signal_id=sid, symbol=symbol, side=side, price=price, quantity=quantity)
    )
    rec = recorder or Recorder(t.redactor)
    try:
        resp = request(
            "POST",
            t.bot_url(p.signal_path),
            recorder=rec,
            content=raw,
            timeout=timeout,
            headers={"Content-Type": "application/json", p.signal_signature_header: sign(key.reveal(), raw)},
        )
    except HttpError as exc:
        reply.error = str(exc)
        if rec.last_status is None:
            reply.cause = netfail.unreachable("the bot's API", t.bot_url(p.health_path), "BOT_API_URL", exc)
            reply.error = reply.cause.detail
        reply.evidence.append(Evidence("HTTP", rec.render()))
        return reply
    reply.status_code = resp.status_code
    reply.evidence.append(Evidence("HTTP", rec.render()))
    try:
        reply.body = resp.json()
    except ValueError:
        reply.body = None
        if resp.status_code == 200:
            reply.error = f"POST {p.signal_path}: HTTP 200 with a body that is not JSON"
    return reply
