"""The HTML report, opened in headless Chromium. Its first page (html/index.html) leads with the verdict words,
operator and witness; the Allure evidence (html/allure.html) shows every item of the run; neither loads anything
from the network (every request a page makes is its own file:// URL or an inline data:/blob: URL)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.preflight_runner import preflight

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LOCAL = ("file://", "data:", "blob:")


ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def first_screen_text(html: Path, requests: list[str]) -> str:
    """The text visible in the first 1280x800 viewport of the page, without scrolling."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("request", lambda r: requests.append(r.url))
            page.goto(f"file://{html}")
            return str(page.evaluate(
                "() => Array.from(document.querySelectorAll('h1, th, td, a'))"
                ".filter(e => { const r = e.getBoundingClientRect(); return r.bottom > 0 && r.top < 800; })"
                ".map(e => e.innerText).join('\\n')"))
        finally:
            browser.close()


def visible_tree_text(html: Path, requests: list[str]) -> str:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.goto(f"file://{html}#behaviors")
            page.wait_for_selector(".node__title", timeout=15000)
            opened: set[str] = set()
            for _ in range(500):  # expand every group of the behaviors tree (epic → feature → story)
                titles = page.locator(".node__title:has(.node__arrow)")
                texts = titles.all_inner_texts()
                todo = [i for i, t in enumerate(texts) if t not in opened]
                if not todo:
                    break
                opened.add(texts[todo[0]])
                titles.nth(todo[0]).click()
            return page.locator(".test-result-tree__layout").first.inner_text()
        finally:
            browser.close()


@pytest.mark.slow
def test_report_shows_every_item_and_stays_offline(tmp_path: Path, shared_pg_env: dict[str, str]) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium missing: make test installs it (scripts/ensure-chromium.sh)")
    run = preflight(tmp_path, env=shared_pg_env)
    assert run.verdict is not None and run.run_dir is not None, run.output[-2000:]
    html = run.run_dir / "html" / "allure.html"
    assert html.exists(), run.output[-2000:]
    requests: list[str] = []
    text = visible_tree_text(html, requests)
    missing = [i["id"] for i in run.verdict["items"] if f"{i['id']} " not in text]
    assert missing == [], f"items not shown in the report: {missing}"
    assert requests and all(u.startswith(LOCAL) for u in requests), [u for u in requests if not u.startswith(LOCAL)]
    assert json.loads((run.run_dir / "cucumber.json").read_text())  # Cucumber JSON beside JUnit
    assert (run.run_dir.parent / ".history-sandbox" / "history.json").exists()


@pytest.mark.slow
@pytest.mark.parametrize("fault", [None, "grafana_dashboards_missing"], ids=["healthy", "faulty"])
def test_first_screen_is_the_verdict(fault: str | None, tmp_path: Path, shared_pg_env: dict[str, str]) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium missing: make test installs it (scripts/ensure-chromium.sh)")
    args = ["--operator", "A. Operator", "--witness", "B. Witness"]
    if fault:
        args += ["--sandbox-fault", fault]
    run = preflight(tmp_path, *args, env=shared_pg_env)
    assert run.verdict is not None and run.run_dir is not None, run.output[-2000:]
    requests: list[str] = []
    text = first_screen_text(run.run_dir / "html" / "index.html", requests)
    assert f"Verdict: {run.verdict['verdict']}" in text
    assert run.verdict["verdict"] == ("NO-GO" if fault else "GO")
    assert "A. Operator" in text and "B. Witness" in text and run.run_dir.name in text
    assert run.verdict["results_sha256"] in text
    assert requests and all(u.startswith(LOCAL) for u in requests), requests
    manifest = (run.run_dir / "results.sha256").read_text()
    assert "html/index.html" in manifest and "html/allure.html" in manifest
