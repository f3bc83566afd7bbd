"""HTTP plumbing shared by every check: timeouts always, exchanges recorded (redacted) as evidence."""

from __future__ import annotations

import functools
import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from ops_checks.core.redaction import Redactor

DEFAULT_TIMEOUT = httpx.Timeout(5.0, connect=3.0)
MAX_BODY_BYTES = 4 * 1024 * 1024  # no check needs more; a hostile endpoint must not fill memory
DEADLINE_MARGIN_S = 2.0  # the whole exchange (headers and body) ends within connect + read + this


@dataclass
class HttpExchange:
    method: str
    url: str
    request_headers: list[tuple[str, str]]
    request_body: str
    status: int | None = None
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: str = ""
    elapsed_ms: float | None = None
    error: str | None = None

    def render(self) -> str:
        lines = [f"> {self.method} {self.url}"]
        lines += [f"> {k}: {v}" for k, v in self.request_headers]
        if self.request_body:
            lines += [">", f"> {self.request_body}"]
        if self.error:
            lines.append(f"! {self.error}")
        else:
            elapsed = f" ({self.elapsed_ms:.1f} ms)" if self.elapsed_ms is not None else ""
            lines.append(f"< HTTP {self.status}{elapsed}")
            lines += [f"< {k}: {v}" for k, v in self.response_headers]
            if self.response_body:
                lines += ["<", f"< {self.response_body[:4000]}"]
        return "\n".join(lines)


class HttpError(Exception):
    """A request that did not produce a usable answer; ``str()`` is a one-line reason."""


class Recorder:
    """Collects redacted HttpExchange records for the evidence of one check."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self.exchanges: list[HttpExchange] = []

    def _body(self, raw: bytes) -> str:
        text = raw.decode("utf-8", "replace")
        try:
            return self.redactor.json(json.loads(text)) if text.strip() else ""
        except ValueError:
            return self.redactor.text(text)

    def record(self, request: httpx.Request, response: httpx.Response | None, error: str | None) -> None:
        ex = HttpExchange(
            method=request.method,
            url=self.redactor.text(str(request.url)),
            request_headers=self.redactor.headers(request.headers.items()),
            request_body=self._body(request.content) if request.content else "",
            error=error,
        )
        if response is not None:
            ex.status = response.status_code
            ex.response_headers = self.redactor.headers(response.headers.items())
            ex.response_body = self._body(response.content)
            try:
                ex.elapsed_ms = response.elapsed.total_seconds() * 1000
            except RuntimeError:  # a response built in memory (mock transports) carries no elapsed time
                ex.elapsed_ms = None
        self.exchanges.append(ex)

    def render(self) -> str:
        return "\n\n".join(ex.render() for ex in self.exchanges)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """httpx's default verification (certifi's CA bundle, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``), built once per
    process: building it loads the whole CA bundle, ~18 ms of CPU, which every request used to pay again."""
    return httpx.create_ssl_context()


_TIMED_OUT: dict[str, str] = {}  # real hosts that timed out in this process: later calls fail at once


def origin(url: httpx.URL | str) -> str:
    """``scheme://host:port`` with the default port filled in: the key a timed-out host is remembered by."""
    if isinstance(url, str):
        try:
            url = httpx.URL(url)
        except httpx.InvalidURL:
            return url  # its request fails with a one-line reason of its own
    return f"{url.scheme}://{url.host}:{url.port or (443 if url.scheme == 'https' else 80)}"


class _Bounded(Exception):
    """The answer broke a bound (size or total deadline); ``str()`` is the one-line reason."""


def request(
    method: str,
    url: str,
    *,
    recorder: Recorder,
    transport: httpx.BaseTransport | None = None,
    timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
    **kwargs: Any,
) -> httpx.Response:
    """One HTTP request, bounded three ways; transport errors become HttpError with a one-line reason.

    - httpx's timeouts bound the connect and each read;
    - a total deadline (connect + read + 2 s) bounds the whole exchange, so an endpoint that trickles a byte a
      second (headers or body) cannot keep a run waiting: a watchdog closes the connection at the deadline;
    - the body is read in chunks and refused past ``MAX_BODY_BYTES``.

    A real host (no injected transport) that timed out once is not waited for again in the same run: every
    later request to it fails at once with the earlier reason, so a hung endpoint costs one timeout, not one
    per check.
    """
    deadline_s = _seconds(timeout) + _connect_seconds(timeout) + DEADLINE_MARGIN_S
    tls = {"verify": _ssl_context()} if transport is None else {}  # an injected transport brings its own
    with httpx.Client(transport=transport, timeout=timeout, follow_redirects=False, **tls) as client:
        req = client.build_request(method, url, **kwargs)
        host_key = origin(req.url)
        if transport is None and host_key in _TIMED_OUT:
            recorder.record(req, None, _TIMED_OUT[host_key])
            raise HttpError(f"{method} {_host(req)}: {_TIMED_OUT[host_key]}")
        watchdog = threading.Timer(deadline_s, client.close)
        watchdog.daemon = True
        started = time.monotonic()
        watchdog.start()
        try:
            resp = client.send(req, stream=True)
            try:
                body = _read_capped(resp, started + deadline_s)
            finally:
                resp.close()
        except _Bounded as exc:
            recorder.record(req, None, str(exc))
            if transport is None and "deadline" in str(exc):
                _TIMED_OUT[host_key] = f"{exc} earlier in this run (not retried)"
            raise HttpError(f"{method} {_host(req)}: {exc}") from None
        except httpx.TimeoutException as exc:
            recorder.record(req, None, f"timeout after {_seconds(timeout)} s")
            if transport is None:
                _TIMED_OUT[host_key] = f"timed out after {_seconds(timeout)} s earlier in this run (not retried)"
            raise HttpError(f"{method} {_host(req)} timed out after {_seconds(timeout)} s") from exc
        except (httpx.HTTPError, RuntimeError) as exc:
            if time.monotonic() - started >= deadline_s:  # the watchdog closed the connection
                reason = f"no complete answer within the {deadline_s:.0f} s deadline (a trickling endpoint)"
                recorder.record(req, None, reason)
                if transport is None:
                    _TIMED_OUT[host_key] = f"{reason} earlier in this run (not retried)"
                raise HttpError(f"{method} {_host(req)}: {reason}") from None
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            reason = recorder.redactor.text(text)
            recorder.record(req, None, reason)
            raise HttpError(f"{method} {_host(req)} failed: {reason}") from exc
        finally:
            watchdog.cancel()
        resp._content = body  # noqa: SLF001 - the capped body, so .content/.json()/.text work as usual
        recorder.record(req, resp, None)
        return resp


def _read_capped(resp: httpx.Response, deadline: float) -> bytes:
    if getattr(resp, "_content", None) is not None:  # built in memory (mock transports): already whole
        if len(resp.content) > MAX_BODY_BYTES:
            raise _Bounded(f"response larger than {MAX_BODY_BYTES} bytes: refused")
        return resp.content
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_raw():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _Bounded(f"response larger than {MAX_BODY_BYTES} bytes: refused")
        if time.monotonic() > deadline:
            raise _Bounded(f"no complete answer within the deadline ({size} bytes so far): a trickling endpoint")
        chunks.append(chunk)
    raw = b"".join(chunks)
    encoding = resp.headers.get("content-encoding", "").lower()
    if encoding in ("", "identity"):
        return raw
    decoded = httpx.Response(200, headers={"content-encoding": encoding}, content=raw).content
    if len(decoded) > MAX_BODY_BYTES:
        raise _Bounded(f"response larger than {MAX_BODY_BYTES} bytes once decoded: refused")
    return decoded


def json_body(resp: httpx.Response) -> Any:
    """Parse a JSON body or raise HttpError naming the endpoint."""
    try:
        return resp.json()
    except ValueError as exc:
        raise HttpError(
            f"{resp.request.method} {resp.request.url.path}: malformed JSON (HTTP {resp.status_code})"
        ) from exc


def _host(req: httpx.Request) -> str:
    return f"{req.url.scheme}://{req.url.host}{':' + str(req.url.port) if req.url.port else ''}{req.url.path}"


def _connect_seconds(timeout: float | httpx.Timeout) -> float:
    if isinstance(timeout, httpx.Timeout):
        return timeout.connect or 0.0
    return float(timeout)


def _seconds(timeout: float | httpx.Timeout) -> float:
    if isinstance(timeout, httpx.Timeout):
        return timeout.read or timeout.connect or 0.0
    return float(timeout)
