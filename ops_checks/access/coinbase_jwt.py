"""Coinbase CDP API keys and JWTs, built the way Coinbase's SDKs build them (incident SOP §1).

ES256 for EC P-256 keys (PEM), EdDSA for Ed25519 keys (PEM, or CDP's base64 of 64 bytes: seed + public key).
Claims: ``iss`` "cdp", ``nbf`` now, ``exp`` now + 120 s, ``sub`` the key name, ``uri`` "METHOD host/path";
header: ``kid`` the key name and a random hex ``nonce``. Private key material never leaves this module.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from ops_checks.core import readings

HOST = "api.coinbase.com"
PROBE = ("GET", "/api/v3/brokerage/accounts")
LIFETIME_S = 120
ALLOWED_MODES = (0o400, 0o600)

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


class KeyError_(Exception):  # noqa: N801 - not the builtin KeyError
    """The key file cannot be used; ``str()`` is a one-line reason without key material."""


@dataclass(frozen=True)
class FileState:
    path: Path
    mode: int
    owner_uid: int
    running_uid: int

    @property
    def problems(self) -> list[str]:
        out = []
        if self.mode not in ALLOWED_MODES:
            out.append(f"mode {self.mode:o} (expected 400 or 600)")
        if self.owner_uid != self.running_uid:
            out.append(f"owned by uid {self.owner_uid}, not the running user (uid {self.running_uid})")
        return out

    def describe(self) -> str:
        return f"{self.path}: mode {self.mode:o}, owner uid {self.owner_uid} (running uid {self.running_uid})"


def file_state(path: Path) -> FileState:
    try:
        st = path.stat()
    except OSError as exc:
        raise KeyError_(f"key file {path} unreadable: {exc.strerror or type(exc).__name__}") from exc
    return FileState(path, stat.S_IMODE(st.st_mode), st.st_uid, os.geteuid())


def load_private_key(path: Path) -> PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyError_(f"key file {path} unreadable: {exc.strerror or type(exc).__name__}") from exc
    return parse_private_key(data)


def parse_private_key(data: bytes) -> PrivateKey:
    text = data.strip()
    if text.startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text, password=None)
        except (ValueError, TypeError) as exc:
            raise KeyError_("key file is PEM but not a readable unencrypted private key") from exc
    else:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise KeyError_("key file is neither PEM nor base64 Ed25519 key material") from exc
        if len(raw) not in (32, 64):
            raise KeyError_(f"base64 key is {len(raw)} bytes, expected 64 (Ed25519 seed + public key) or 32")
        key = ed25519.Ed25519PrivateKey.from_private_bytes(raw[:32])
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    raise KeyError_(f"unsupported key type {type(key).__name__}: CDP keys are EC P-256 or Ed25519")


def algorithm(key: PrivateKey | PublicKey) -> str:
    return "EdDSA" if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey) else "ES256"


def uri(method: str, path: str, host: str = HOST) -> str:
    return f"{method.upper()} {host}{path}"


def build_jwt(key_name: str, key: PrivateKey, method: str, path: str, *, now: int, host: str = HOST) -> str:
    """A CDP JWT for one request, as the SDK mints it (``now``: Unix seconds of the minting clock)."""
    claims = {"sub": key_name, "iss": "cdp", "nbf": now, "exp": now + LIFETIME_S, "uri": uri(method, path, host)}
    headers = {"kid": key_name, "nonce": secrets.token_hex()}
    return jwt.encode(claims, key, algorithm=algorithm(key), headers=headers)


@dataclass(frozen=True)
class Decoded:
    header: dict[str, Any]
    claims: dict[str, Any]

    def shape_problems(self, key_name: str, alg: str) -> list[str]:
        c, h, out = self.claims, self.header, []
        if h.get("alg") != alg:
            out.append(f"alg {h.get('alg')} (expected {alg})")
        if h.get("kid") != key_name or c.get("sub") != key_name:
            out.append("kid/sub are not the key name")
        if not isinstance(h.get("nonce"), str) or not h.get("nonce"):
            out.append("no nonce in the header")
        if c.get("iss") != "cdp":
            out.append(f"iss {c.get('iss')!r} (expected 'cdp')")
        if not isinstance(c.get("uri"), str) or " " not in c["uri"]:
            out.append("uri is not 'METHOD host/path'")
        nbf, exp = _unix(c.get("nbf")), _unix(c.get("exp"))
        if nbf is None or exp is None or exp - nbf != LIFETIME_S:
            out.append(f"exp - nbf is not {LIFETIME_S} s")
        return out

    def window_problem(self, at: float) -> str | None:
        """None when ``at`` (Unix seconds of the verifying clock) lies in [nbf, exp)."""
        nbf, exp = _unix(self.claims.get("nbf")), _unix(self.claims.get("exp"))
        if nbf is None or exp is None:
            shown = ", ".join(f"{k} {readings.shown(self.claims.get(k))}" for k in ("nbf", "exp"))
            return f"no integer nbf/exp ({shown})"
        if at < nbf:
            return f"not valid for another {nbf - at:.0f} s (nbf in the future)"
        if at >= exp:
            return f"expired {at - exp:.0f} s ago"
        return None


def _unix(value: object) -> int | None:
    """A JWT time claim: a whole number of Unix seconds (never ``true``, 1.5, NaN or a string), else None."""
    try:
        return readings.count(value, "claim")
    except readings.BadReading:
        return None


def decode_verified(token: str, public_key: PublicKey) -> Decoded:
    """Verify the signature with ``public_key`` (no time checks: the caller judges the window on its clock)."""
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(
            token,
            public_key,
            algorithms=[algorithm(public_key)],
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False},
        )
    except jwt.PyJWTError as exc:
        raise KeyError_(f"JWT does not verify with the key's public key: {type(exc).__name__}") from exc
    return Decoded(header, claims)


def generate_ec_pem() -> bytes:
    """A fresh EC P-256 private key in PEM (the sandbox's CDP key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    pkcs8, none = serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, pkcs8, none)
