"""Issue 13 §4: every request has a total deadline and a size cap; a hostile endpoint cannot hang or flood a run.

Each fake endpoint runs on loopback (a real socket): one trickles its headers a byte per second, one trickles
its body, one sends 50 MB. The request must fail with a one-line reason; a hang-catching join bound only.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from ops_checks.core import http
from ops_checks.core.redaction import Redactor


def serve(behaviour: str) -> Iterator[int]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    stop = threading.Event()

    def handle(conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            if behaviour == "trickle-headers":
                for b in head + b"X-Slow: " + b"a" * 100:
                    if stop.is_set():
                        return
                    conn.sendall(bytes([b]))
                    time.sleep(1)
            elif behaviour == "trickle-body":
                conn.sendall(head + b"Content-Length: 1000\r\n\r\n")
                for _ in range(1000):
                    if stop.is_set():
                        return
                    conn.sendall(b"1")
                    time.sleep(1)
            elif behaviour == "huge":
                size = 50 * 1024 * 1024
                conn.sendall(head + f"Content-Length: {size}\r\n\r\n".encode())
                chunk = b"x" * 65536
                for _ in range(size // len(chunk)):
                    if stop.is_set():
                        return
                    conn.sendall(chunk)
        except OSError:
            pass
        finally:
            conn.close()

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            except OSError:  # closed at teardown
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield int(srv.getsockname()[1])
    stop.set()
    srv.close()


@pytest.fixture(params=["trickle-headers", "trickle-body", "huge"])
def endpoint(request: pytest.FixtureRequest) -> Iterator[tuple[str, int]]:
    yield from ((request.param, port) for port in serve(request.param))


def test_hostile_endpoint_fails_one_line(endpoint: tuple[str, int]) -> None:
    behaviour, port = endpoint
    box: dict[str, BaseException] = {}

    def call() -> None:
        try:
            http.request("GET", f"http://127.0.0.1:{port}/health", recorder=http.Recorder(Redactor()),
                         timeout=http.httpx.Timeout(2.0, connect=1.0))
        except BaseException as exc:  # noqa: BLE001 - inspected below
            box["error"] = exc

    t = threading.Thread(target=call, daemon=True)
    t.start()
    t.join(60)  # hang catcher only
    assert not t.is_alive(), f"{behaviour}: the request did not end"
    err = box.get("error")
    assert isinstance(err, http.HttpError), repr(err)
    reason = str(err)
    assert "\n" not in reason
    if behaviour == "huge":
        assert "larger than" in reason
    else:
        assert "deadline" in reason or "timed out" in reason, reason


def test_one_tls_context_per_process_and_it_still_verifies() -> None:
    """Every request shares one context (building one loads the CA bundle: ~18 ms of CPU each time), and sharing
    it weakens nothing: certificates and host names are still checked."""
    import ssl

    from ops_checks.core import http

    ctx = http._ssl_context()  # noqa: SLF001
    assert ctx is http._ssl_context()  # noqa: SLF001
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.cert_store_stats()["x509_ca"] > 0
