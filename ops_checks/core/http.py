"""HTTP plumbing shared by every check: timeouts always, exchanges recorded (redacted) as evidence."""

from __future__ import annotations

import functools
import json
import ssl
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

import httpx

from ops_checks.core.redaction import Redactor

DEFAULT_TIMEOUT = httpx.Timeout(5.0, connect=3.0)
MAX_BODY_BYTES = 4 * 1024 * 1024  # no check needs more; a hostile endpoint must not fill memory
OVER_CAP = f"response body over {MAX_BODY_BYTES // (1024 * 1024)} MiB"
# The encodings asked for are the ones decoded here as they stream, within the cap; any other is refused.
ACCEPT_ENCODING = "gzip, deflate"
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

    @property
    def last_status(self) -> int | None:
        """The HTTP status of the last exchange recorded; None when it got no HTTP answer (DNS, refused, timeout)."""
        return self.exchanges[-1].status if self.exchanges else None

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
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            return url  # its request fails with a one-line reason of its own
    else:
        parsed = url
    return f"{parsed.scheme}://{parsed.host}:{parsed.port or (443 if parsed.scheme == 'https' else 80)}"


class _Bounded(Exception):
    """The answer broke a bound (size or total deadline) or cannot be decoded; ``str()`` is the one-line reason."""


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
    - the body is read in chunks and refused past ``MAX_BODY_BYTES``, raw or decoded: a compressed body is
      decoded as it arrives and never past the cap, so a 1 MB gzip bomb of 1 GiB costs 4 MiB, not 1 GiB.

    A real host (no injected transport) that timed out once is not waited for again in the same run: every
    later request to it fails at once with the earlier reason, so a hung endpoint costs one timeout, not one
    per check.
    """
    deadline_s = _seconds(timeout) + _connect_seconds(timeout) + DEADLINE_MARGIN_S
    # an injected transport brings its own TLS settings
    tls: dict[str, Any] = {"verify": _ssl_context()} if transport is None else {}
    with httpx.Client(transport=transport, timeout=timeout, follow_redirects=False, **tls) as client:
        req = client.build_request(method, url, **kwargs)
        req.headers["Accept-Encoding"] = ACCEPT_ENCODING  # not br/zstd, which httpx would offer once installed
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
            raise _Bounded(f"{OVER_CAP}: refused")
        return resp.content
    decoder = _Decoder(resp.headers.get("content-encoding", ""))
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_raw():  # as received: httpx's own decoding (iter_bytes) has no output bound
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _Bounded(f"{OVER_CAP}: refused")
        if time.monotonic() > deadline:
            raise _Bounded(f"no complete answer within the deadline ({size} bytes so far): a trickling endpoint")
        chunks.append(decoder.feed(chunk))
    chunks.append(decoder.finish())
    return b"".join(chunks)


class _Stage:
    """One zlib decoder whose total output stops one byte past the cap: more than that is never produced."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.total = 0
        self._first = True
        # gzip: the gzip header; deflate: the zlib wrapper first, raw deflate if that fails (as httpx and browsers)
        self._z = zlib.decompressobj(zlib.MAX_WBITS | 16 if encoding == "gzip" else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> bytes:
        first, self._first = self._first, False
        try:
            out = self._z.decompress(data, MAX_BODY_BYTES - self.total + 1) if data else b""
        except zlib.error as exc:
            if first and self.encoding == "deflate":
                self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                return self.feed(data)
            raise _Bounded(f"response body is not valid {self.encoding} ({exc})") from None
        return self._count(out)

    def finish(self, data: bytes) -> bytes:
        out = self.feed(data)
        try:
            return out + self._count(self._z.flush())
        except zlib.error as exc:
            raise _Bounded(f"response body is not valid {self.encoding} ({exc})") from None

    def _count(self, out: bytes) -> bytes:
        self.total += len(out)
        if self.total > MAX_BODY_BYTES:  # a stage's output is the next one's input: each stays within the cap
            raise _Bounded(f"{OVER_CAP} once decoded ({self.encoding}): refused")
        return out


_ALIASES = {"x-gzip": "gzip"}  # RFC 9110 §8.4.1.3


class _Decoder:
    """The body's ``Content-Encoding`` undone chunk by chunk, each stage's output bounded by the cap (a stage
    asked for at most cap + 1 bytes either stays within it, having used all its input, or breaks the cap)."""

    def __init__(self, header: str) -> None:
        named = (e.strip().lower() for e in header.split(","))
        applied = [_ALIASES.get(e, e) for e in named if e not in ("", "identity")]
        unsupported = [e for e in applied if e not in ("gzip", "deflate")]
        if unsupported:
            raise _Bounded(f"response body in Content-Encoding {', '.join(unsupported)}: not asked for, refused")
        self._stages = [_Stage(e) for e in reversed(applied)]  # the last encoding applied is undone first

    def feed(self, data: bytes) -> bytes:
        for stage in self._stages:
            data = stage.feed(data)
        return data

    def finish(self) -> bytes:
        data = b""
        for stage in self._stages:
            data = stage.finish(data)
        return data


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
