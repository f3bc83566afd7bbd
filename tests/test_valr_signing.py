"""VALR request signing against VALR's published examples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ops_checks.access.valr.signing import sign_request, signed_headers
from ops_checks.core.secret import Secret

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "shared" / "vectors" / "valr-signing.json").read_text()
)


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["name"] for c in VECTORS["cases"]])
def test_published_vectors(case: dict[str, str]) -> None:
    got = sign_request(
        case["secret"], case["timestamp"], case["verb"], case["path"], case["body"], case["subaccount_id"]
    )
    assert got == case["signature"]


def test_timestamp_as_int_and_lowercase_verb() -> None:
    case = VECTORS["cases"][0]
    assert sign_request(case["secret"], int(case["timestamp"]), "get", case["path"]) == case["signature"]


def test_full_url_instead_of_path_differs() -> None:
    neg = VECTORS["negative"]
    assert (
        sign_request(neg["secret"], neg["timestamp"], neg["verb"], neg["path"], neg["body"]) != neg["must_differ_from"]
    )


def test_subaccount_id_changes_signature() -> None:
    case = VECTORS["cases"][0]
    assert sign_request(case["secret"], case["timestamp"], "GET", case["path"], "", "12345") != case["signature"]


def test_signed_headers_uses_one_timestamp() -> None:
    case = VECTORS["cases"][1]
    headers = signed_headers(
        Secret("my-api-key"), Secret(case["secret"]), "POST", case["path"], case["body"], int(case["timestamp"])
    )
    assert headers == {
        "X-VALR-API-KEY": "my-api-key",
        "X-VALR-SIGNATURE": case["signature"],
        "X-VALR-TIMESTAMP": case["timestamp"],
    }


def test_signed_headers_default_clock_signs_what_it_sends() -> None:
    secret = "s3cr3t-value"
    headers = signed_headers(Secret("k"), Secret(secret), "GET", "/v1/account/balances", subaccount_id="99")
    ts = headers["X-VALR-TIMESTAMP"]
    assert ts.isdigit() and len(ts) == 13
    assert headers["X-VALR-SUB-ACCOUNT-ID"] == "99"
    assert headers["X-VALR-SIGNATURE"] == sign_request(secret, ts, "GET", "/v1/account/balances", "", "99")
