"""VALR endpoints the SOP checks need beyond ``ValrClient``: open orders, futures funding history, positions.

Funding: ``GET /v1/public/futures/funding/history?currencyPair=…`` answers ``[{currencyPair, fundingRate,
fundingTime}]`` newest first (VALR settles hourly). Positions: ``GET /v1/positions/open`` (signed) — assumed to
list ``{pair, side, quantity, markPrice}``; VALR's exact field names should be confirmed against its docs.
"""

from __future__ import annotations

from typing import Any

import httpx

from ops_checks import http
from ops_checks.config import Target
from ops_checks.http import HttpError, Recorder
from ops_checks.valr.signing import signed_headers


class ValrCallError(Exception):
    """One-line reason."""


def get(t: Target, rec: Recorder, path: str, params: dict[str, str] | None = None, *, signed: bool = False) -> Any:
    url = httpx.URL(t.valr_base_url + path, params=params or {})
    headers = {"Accept": "application/json"}
    if signed:
        key, secret = t.secret("VALR_API_KEY"), t.secret("VALR_API_SECRET")
        if not key or not secret:
            raise ValrCallError("VALR_API_KEY or VALR_API_SECRET is not set")
        headers |= signed_headers(key, secret, "GET", url.raw_path.decode("ascii"))
    try:
        resp = http.request("GET", str(url), recorder=rec, transport=t.valr_transport, headers=headers)
    except HttpError as exc:
        raise ValrCallError(str(exc)) from exc
    if resp.status_code != 200:
        raise ValrCallError(f"VALR GET {path}: HTTP {resp.status_code} {resp.text[:160]}")
    try:
        return resp.json()
    except ValueError as exc:
        raise ValrCallError(f"VALR GET {path}: malformed JSON") from exc


def open_orders(t: Target, rec: Recorder) -> list[dict[str, Any]]:
    data = get(t, rec, "/v1/orders/open", signed=True)
    if not isinstance(data, list):
        raise ValrCallError("VALR GET /v1/orders/open: not a JSON array")
    return data
