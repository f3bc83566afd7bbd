"""The redactor: known secret values and secret-named fields never survive."""

from __future__ import annotations

from ops_checks.core.redaction import MASK, Redactor
from ops_checks.core.secret import Secret


def test_known_values_are_replaced_everywhere() -> None:
    r = Redactor([Secret("s3cr3t-value-123"), "another-secret-xyz"])
    text = r.text("a s3cr3t-value-123 b another-secret-xyz c")
    assert "s3cr3t" not in text and "another-secret" not in text and text.count(MASK) == 2


def test_secret_named_fields_and_headers() -> None:
    r = Redactor()
    assert r.mapping({"api_key": "abc", "nested": [{"password": "p"}], "ok": "fine", "code": -11252}) == {
        "api_key": MASK, "nested": [{"password": MASK}], "ok": "fine", "code": -11252}
    headers = dict(r.headers([("X-VALR-API-KEY", "k"), ("X-VALR-SIGNATURE", "s"), ("Authorization", "Bearer t"),
                              ("Content-Type", "application/json")]))
    assert headers == {"X-VALR-API-KEY": MASK, "X-VALR-SIGNATURE": MASK, "Authorization": MASK,
                       "Content-Type": "application/json"}


def test_url_passwords_and_assignments() -> None:
    r = Redactor()
    assert "hunter2" not in r.text("postgresql://app:hunter2@db:5432/x")
    assert "abcdef" not in r.text("WEBHOOK_SECRET=abcdef and token: abcdef")


def test_secret_type_never_prints() -> None:
    s = Secret("very-secret-value")
    assert "very" not in repr(s) and "very" not in str(s) and "very" not in f"{s}" and s.reveal() == "very-secret-value"
