"""The VALR simulator over real HTTP on loopback, for runs where the suite is a separate process.

``scripts/real-bot-check.sh`` runs the live preflight against the real bot with outbound traffic blocked; with
this server as ``VALR_BASE_URL`` the suite's exchange items are judged against a simulated VALR (the same
simulator the sandbox injects as an httpx transport) instead of failing on a closed port.

    python -m ops_checks.sandbox.valr_http --port 8765   # key/secret from OPSCHECK_SANDBOX_VALR_API_KEY/_SECRET
"""

from __future__ import annotations

import argparse
import os

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ops_checks.sandbox.valr_sim import ValrSimulator


def app(sim: ValrSimulator) -> Starlette:
    transport = sim.transport()

    async def forward(request: Request) -> Response:
        body = await request.body()
        url = sim.base_url + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in ("host", "content-length")]
        answer = transport.handle_request(httpx.Request(request.method, url, headers=headers, content=body))
        answer.read()
        keep = {k: v for k, v in answer.headers.items() if k.lower() not in ("content-length", "content-encoding")}
        return Response(answer.content, status_code=answer.status_code, headers=keep)

    return Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST", "PUT", "DELETE"])])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    key = os.environ.get("OPSCHECK_SANDBOX_VALR_API_KEY", "")
    secret = os.environ.get("OPSCHECK_SANDBOX_VALR_API_SECRET", "")
    if not key or not secret:
        raise SystemExit("valr_http: set OPSCHECK_SANDBOX_VALR_API_KEY and OPSCHECK_SANDBOX_VALR_API_SECRET")
    sim = ValrSimulator(key, secret, base_url=f"http://127.0.0.1:{args.port}")
    uvicorn.run(app(sim), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
