"""CDP JWTs as Coinbase's SDK builds them: ES256/EdDSA, claims and header, verification, validity window."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from ops_checks.access import coinbase_jwt as cj

NAME = "organizations/org-1/apiKeys/key-1"


def test_es256_claims_and_header() -> None:
    key = cj.parse_private_key(cj.generate_ec_pem())
    now = int(time.time())
    token = cj.build_jwt(NAME, key, "GET", "/api/v3/brokerage/accounts", now=now)
    d = cj.decode_verified(token, key.public_key())
    assert d.header["alg"] == "ES256" and d.header["kid"] == NAME and len(d.header["nonce"]) == 64
    assert d.claims == {
        "sub": NAME,
        "iss": "cdp",
        "nbf": now,
        "exp": now + 120,
        "uri": "GET api.coinbase.com/api/v3/brokerage/accounts",
    }
    assert d.shape_problems(NAME, "ES256") == []
    assert d.window_problem(now + 1) is None
    assert "expired" in (d.window_problem(now + 121) or "")
    assert "nbf in the future" in (d.window_problem(now - 5) or "")


def test_ed25519_base64_key_uses_eddsa() -> None:
    priv = ed25519.Ed25519PrivateKey.generate()
    seed = priv.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    pub = priv.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key = cj.parse_private_key(base64.b64encode(seed + pub))
    token = cj.build_jwt(NAME, key, "POST", "/api/v3/brokerage/orders", now=1_700_000_000)
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"
    assert cj.decode_verified(token, priv.public_key()).claims["uri"] == "POST api.coinbase.com/api/v3/brokerage/orders"


def test_wrong_public_key_does_not_verify() -> None:
    key = cj.parse_private_key(cj.generate_ec_pem())
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    token = cj.build_jwt(NAME, key, "GET", "/x", now=int(time.time()))
    with pytest.raises(cj.KeyError_, match="does not verify"):
        cj.decode_verified(token, other)


def test_bad_key_material_is_a_one_line_reason() -> None:
    with pytest.raises(cj.KeyError_, match="neither PEM nor base64"):
        cj.parse_private_key(b"not a key at all!")
    p384 = ec.generate_private_key(ec.SECP384R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(cj.KeyError_, match="unsupported"):
        cj.parse_private_key(p384)


def test_file_state(tmp_path: Path) -> None:
    path = tmp_path / "cdp.pem"
    path.write_bytes(cj.generate_ec_pem())
    path.chmod(0o600)
    assert cj.file_state(path).problems == []
    path.chmod(0o644)
    assert cj.file_state(path).problems == ["mode 644 (expected 400 or 600)"]
    with pytest.raises(cj.KeyError_, match="unreadable"):
        cj.file_state(tmp_path / "missing.pem")
