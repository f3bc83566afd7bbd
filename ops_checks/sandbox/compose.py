"""The sandbox's ``docker-compose down`` / ``up -d`` for the transition: stop the reference bot, start it again with
the EXECUTION_MODE its env file now holds (as compose reads ``.env`` at start-up)."""

from __future__ import annotations

import time
from pathlib import Path

from ops_checks.core.envfile import ConfigError, read_env_file
from ops_checks.core.http import HttpError, Recorder, json_body, request
from ops_checks.sandbox.environment import BOT_SERVICE, Sandbox

QUIET_S = 0.15  # > several of an orphan worker's exchange polls: silence over this window means no traffic


class SandboxServices:
    manual = False

    def __init__(self, sb: Sandbox, env_file: Path, start_timeout_s: float = 5.0) -> None:
        self.sb = sb
        self.env_file = env_file
        self.start_timeout_s = start_timeout_s

    def stop(self) -> list[str]:
        sb = self.sb
        assert sb.bot is not None and sb.valr is not None and sb.target is not None
        if sb.bot.serving:
            sb.bot.stop()
        problems = [f"{s.name} is {s.state}" for s in sb.services() if s.name == BOT_SERVICE and s.state != "exited"]
        try:
            request(
                "GET",
                sb.target.bot_api_url + sb.target.bot_health_path,
                recorder=Recorder(sb.target.redactor),
                timeout=1.0,
            )
            problems.append("the bot's API still answers")
        except HttpError:
            pass
        before = len(sb.valr.requests)
        time.sleep(QUIET_S)
        if len(sb.valr.requests) != before:
            problems.append(f"{len(sb.valr.requests) - before} request(s) reached the exchange after the stop")
        return problems

    def start(self) -> list[str]:
        sb = self.sb
        assert sb.bot is not None and sb.target is not None
        try:
            mode = read_env_file(self.env_file).get("EXECUTION_MODE", "")
        except ConfigError as exc:
            return [f"compose cannot read the env file: {exc}"]
        if mode not in ("DRY_RUN", "LIVE"):
            return ["EXECUTION_MODE in the env file is neither DRY_RUN nor LIVE"]
        if sb.bot.serving:
            sb.bot.stop()
        sb.bot.execution_mode = mode
        try:
            sb.bot.start()
        except RuntimeError as exc:
            return [f"{BOT_SERVICE} did not start: {exc}"]
        if sb.target.bot_api_url != sb.bot.url:  # a new port: what the operator's BOT_API_URL now points at
            sb.target.bot_api_url = sb.env["BOT_API_URL"] = sb.bot.url
            sb.target.metrics_url = sb.env["METRICS_URL"] = f"{sb.bot.url}/metrics"
        deadline = time.monotonic() + self.start_timeout_s
        last = "no answer"
        while time.monotonic() < deadline:
            try:
                resp = request(
                    "GET",
                    sb.target.bot_api_url + sb.target.bot_health_path,
                    recorder=Recorder(sb.target.redactor),
                    timeout=1.0,
                )
                body = json_body(resp)
                if resp.status_code == 200 and isinstance(body, dict) and body.get("status") == "healthy":
                    if sb.bot.policy_loop_alive():
                        return []
                    last = "policy loop not running"
                else:
                    last = f"health HTTP {resp.status_code}"
            except HttpError as exc:
                last = str(exc)
            time.sleep(0.05)
        return [f"{BOT_SERVICE} not healthy within {self.start_timeout_s:g} s: {last}"]
