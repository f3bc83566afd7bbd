"""What a network failure was, named from the exception itself (never from its message): the name did not resolve
(DNS), the host refused the connection, it did not answer in time, TLS failed, the connection broke, or the host
answered with an HTTP error. A reason then says which ("api.valr.com does not resolve (DNS)"), and a cause groups
every item that failed the same way on the same host.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from ops_checks.core.result import Cause

DNS, REFUSED, TIMEOUT, TLS, RESET, OTHER = "dns", "refused", "timeout", "tls", "reset", "other"

#: the words a reason uses for each kind (after the host)
SAID = {
    DNS: "does not resolve (DNS)",
    REFUSED: "refused the connection",
    TIMEOUT: "did not answer in time",
    TLS: "failed the TLS handshake",
    RESET: "closed the connection",
    OTHER: "gave no usable answer",
}


@dataclass(frozen=True)
class NetFailure:
    kind: str  # DNS, REFUSED, TIMEOUT, TLS, RESET or OTHER
    host: str  # "api.valr.com" (or "api.valr.com:8443"); "" when the exception names none

    def said(self, what: str = "") -> str:
        """One plain sentence: ``what`` (e.g. "VALR") and the host, then what happened."""
        who = " ".join(p for p in (what, f"({self.host})" if self.host and what else self.host) if p) or "the host"
        return f"{who} {SAID[self.kind]}"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception it was raised from or during, each once."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [x for x in (e.__cause__, e.__context__) if x is not None]


def _host(exc: BaseException) -> str:
    for e in _chain(exc):
        if isinstance(e, httpx.RequestError):
            try:
                url = e.request.url
            except RuntimeError:  # no request attached
                continue
            default = {"https": 443, "http": 80}.get(url.scheme)
            return url.host + (f":{url.port}" if url.port and url.port != default else "")
    return ""


def classify(exc: BaseException) -> NetFailure:
    """The kind of network failure behind ``exc`` (its cause chain), and the host it was talking to."""
    kind = OTHER
    for e in _chain(exc):
        if isinstance(e, socket.gaierror):
            kind = DNS
        elif isinstance(e, ConnectionRefusedError):
            kind = REFUSED
        elif isinstance(e, (httpx.TimeoutException, TimeoutError, socket.timeout)):
            kind = TIMEOUT
        elif isinstance(e, ssl.SSLError):
            kind = TLS
        elif isinstance(e, (ConnectionResetError, httpx.RemoteProtocolError, httpx.ReadError)):
            kind = RESET
        else:
            continue
        break
    return NetFailure(kind, _host(exc))


def host_of(url: str) -> str:
    try:
        u = httpx.URL(url)
    except httpx.InvalidURL:
        return url
    default = {"https": 443, "http": 80}.get(u.scheme)
    return u.host + (f":{u.port}" if u.port and u.port != default else "")


_NET_REMEDY = {
    DNS: "check this host's DNS resolver (getent hosts {host}) and the URL in {var}",
    REFUSED: "check the URL in {var} (host and port) and that the service listens there: curl -sS {url}",
    TIMEOUT: "check the route and any firewall or proxy between this host and {host}: curl -sS -m 5 {url}",
    TLS: "check the URL's scheme in {var} and this host's CA certificates (SSL_CERT_FILE)",
    RESET: "check any proxy or firewall between this host and {host}, then re-run",
    OTHER: "check that {host} answers: curl -sS -m 5 {url}",
}


def unreachable(what: str, url: str, var: str, exc: BaseException) -> Cause:
    """``what`` (e.g. "VALR") at ``url`` gave no HTTP answer: DNS, refused, timeout, TLS or a broken connection,
    named from the exception. ``var`` is the setting holding the URL."""
    failure = classify(exc)
    host = failure.host or host_of(url)
    said = NetFailure(failure.kind, host).said(what)
    if failure.kind == OTHER:  # nothing more exact to name: what the client said
        said = f"{said}: {exc}"
    remedy = _NET_REMEDY[failure.kind].format(host=host, url=url, var=var)
    return Cause("unreachable", f"{what} {host}", said, remedy)
