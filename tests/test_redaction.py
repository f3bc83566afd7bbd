"""The redactor: known secret values and secret-named fields never survive."""

from __future__ import annotations

from ops_checks.core.redaction import MASK, Redactor, scrub_values
from ops_checks.core.secret import Secret


def test_known_values_are_replaced_everywhere() -> None:
    r = Redactor([Secret("s3cr3t-value-123"), "another-secret-xyz"])
    text = r.text("a s3cr3t-value-123 b another-secret-xyz c")
    assert "s3cr3t" not in text and "another-secret" not in text and text.count(MASK) == 2


def test_secret_named_fields_and_headers() -> None:
    r = Redactor()
    assert r.mapping({"api_key": "abc", "nested": [{"password": "p"}], "ok": "fine", "code": -11252}) == {
        "api_key": MASK,
        "nested": [{"password": MASK}],
        "ok": "fine",
        "code": -11252,
    }
    headers = dict(
        r.headers(
            [
                ("X-VALR-API-KEY", "k"),
                ("X-VALR-SIGNATURE", "s"),
                ("Authorization", "Bearer t"),
                ("Content-Type", "application/json"),
            ]
        )
    )
    assert headers == {
        "X-VALR-API-KEY": MASK,
        "X-VALR-SIGNATURE": MASK,
        "Authorization": MASK,
        "Content-Type": "application/json",
    }


def test_url_passwords_and_assignments() -> None:
    r = Redactor()
    assert "hunter2" not in r.text("postgresql://app:hunter2@db:5432/x")
    assert "abcdef" not in r.text("WEBHOOK_SECRET=abcdef and token: abcdef")


def test_secret_type_never_prints() -> None:
    s = Secret("very-secret-value")
    assert "very" not in repr(s) and "very" not in str(s) and "very" not in f"{s}" and s.reveal() == "very-secret-value"


KEY = "Kv7hQ2mXr9TzL4pWnB8sYc3d"  # 24 characters, mixed case and digits, like an exchange key


def test_an_echoed_prefix_of_a_long_secret_is_masked() -> None:
    r = Redactor([KEY])
    for n in (8, 12, 20):
        text = r.text(f"Unauthorized: API key {KEY[:n]}… not found")
        assert KEY[:8] not in text and text == f"Unauthorized: API key {MASK}… not found", n
    assert r.text(f"key {KEY[:7]}…") == f"key {KEY[:7]}…"  # 7 characters say too little to mask
    assert r.text(f"[{KEY}{KEY[:10]}]") == f"[{MASK}{MASK}]"  # a secret followed by its own prefix


def test_a_reversed_secret_and_its_reversed_tail_are_masked() -> None:
    r = Redactor([KEY])
    assert r.text(f"debug: {KEY[::-1]} end") == f"debug: {MASK} end"
    assert r.text(f"tail ({KEY[::-1][:9]})") == f"tail ({MASK})"


def test_short_and_wordlike_secrets_do_not_eat_ordinary_text() -> None:
    r = Redactor(["Abc123XyZ", "password1234", "Discordsecret"])  # 9 characters; word-shaped prefixes
    text = "the password authentication failed; Discord answered; Abc123Xy is not masked"
    assert r.text(text) == text
    assert r.text("x Abc123XyZ y password1234 z") == f"x {MASK} y {MASK} z"  # the whole values still are


def test_a_secret_urls_token_is_masked_wherever_it_shows() -> None:
    token = "Dw5kq9PzT3xVbN7mLc2Rj8HsYt4GfW6e"
    r = Redactor([f"https://discord.com/api/webhooks/123456/{token}?wait=true"])
    text = r.text(f"POST https://discord.com/api/webhooks/123456/{token} failed; also {token[:12]}… and {token[::-1]}")
    assert text == f"POST https://discord.com/api/webhooks/123456/{MASK} failed; also {MASK}… and {MASK}"
    assert r.text("webhooks/123456 and https://discord.com/api") == "webhooks/123456 and https://discord.com/api"
    dsn = Redactor(["postgresql://app:pw-Kq82nTzLm4@db:5432/app"])
    assert dsn.text("password pw-Kq82nTzLm4 was refused") == f"password {MASK} was refused"


def test_scrub_values_masks_echoes_but_rewrites_no_pattern() -> None:
    r = Redactor([KEY])
    assert scrub_values(f'{{"token": "x", "m": "{KEY[:12]}"}}', r) == f'{{"token": "x", "m": "{MASK}"}}'


def test_everything_known_and_known_carry_the_values() -> None:
    r = Redactor([KEY])
    assert KEY in r.known()
    assert Redactor.everything_known().text(KEY[::-1]) == MASK


def test_echoes_are_masked_in_short_and_long_texts_alike() -> None:
    """Short texts look up the seeds present in one set of their substrings, texts over 64 KiB seed by seed: the
    same echoes are masked either way, next to whitespace, punctuation and each other."""
    r = Redactor([KEY])
    piece = f"a {KEY[:9]}\tb{KEY[::-1][:10]}\n{KEY[:8]}{KEY[:8]} {KEY[1:9]}. "
    masked = f"a {MASK}\tb{MASK}\n{MASK}{MASK} {KEY[1:9]}. "
    assert r.values(piece) == masked
    assert r.values(piece * 5000) == masked * 5000
