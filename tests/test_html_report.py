"""The HTML report, opened in headless Chromium. Its first page (html/index.html) leads with the verdict words,
operator and witness; the Allure evidence (html/allure.html) shows every item of the run; neither loads anything
from the network (every request a page makes is its own file:// URL or an inline data:/blob: URL)."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.preflight_runner import Run, preflight

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LOCAL = ("file://", "data:", "blob:")


ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module's pages (a launch costs a second or two of CPU)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("chromium missing: make test installs it (scripts/ensure-chromium.sh)")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def first_screen_text(browser: Any, html: Path, requests: list[str]) -> str:
    """The text visible in the first 1280x800 viewport of the page, without scrolling."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"file://{html}")
        return str(
            page.evaluate(
                "() => Array.from(document.querySelectorAll('h1, th, td, a'))"
                ".filter(e => { const r = e.getBoundingClientRect(); return r.bottom > 0 && r.top < 800; })"
                ".map(e => e.innerText).join('\\n')"
            )
        )
    finally:
        page.close()


# Opens every epic and feature group of the behaviors tree in one page script: each click re-renders the tree, so
# one round trip per click (and opening the 145 one-result story groups as well) cost 20-30 s.
EXPAND_TO_STORIES = """() => {
  const depth = e => { let d = 0; for (let p = e.parentElement; p; p = p.parentElement)
    if (p.classList.contains('node__children')) d++; return d; };
  const opened = new Set();
  for (let i = 0; i < 1000; i++) {
    const title = Array.from(document.querySelectorAll('.node__title:has(.node__arrow)'))
      .find(e => depth(e) < 2 && !opened.has(e.innerText));
    if (!title) return opened.size;
    opened.add(title.innerText);
    title.click();
  }
  return -1;
}"""


def visible_tree_text(browser: Any, html: Path, requests: list[str]) -> str:
    """The behaviors tree's text with every epic (runbook) and feature (section) open: each item shows as its
    story, titled with the item id and followed by its number of results."""
    page = browser.new_page()
    try:
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"file://{html}#behaviors")
        page.wait_for_selector(".node__title", timeout=15000)
        assert page.evaluate(EXPAND_TO_STORIES) > 0, "no group of the behaviors tree could be opened"
        return str(page.locator(".test-result-tree__layout").first.inner_text())
    finally:
        page.close()


@pytest.fixture(scope="module")
def run_for(
    shared_pg_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory, healthy_run: Run
) -> Callable[[str | None], Run]:
    """One preflight with the HTML report per fault (None: healthy), signed by an operator and a witness, made
    once for this module: the first screen and the evidence tree are read from the same run."""
    runs: dict[str | None, Run] = {None: healthy_run}

    def get(fault: str | None) -> Run:
        if fault not in runs:
            if not Path(CHROMIUM).exists():
                pytest.fail("chromium missing: make test installs it (scripts/ensure-chromium.sh)")
            args = ["--operator", "A. Operator", "--witness", "B. Witness"]
            if fault:
                args += ["--sandbox-fault", fault]
            runs[fault] = preflight(tmp_path_factory.mktemp("html"), *args, env=shared_pg_env)
        return runs[fault]

    return get


@pytest.mark.slow
def test_report_shows_every_item_and_stays_offline(run_for: Callable[[str | None], Run], browser: Any) -> None:
    run = run_for(None)
    assert run.verdict is not None and run.run_dir is not None, run.output[-2000:]
    html = run.run_dir / "html" / "allure.html"
    assert html.exists(), run.output[-2000:]
    requests: list[str] = []
    text = visible_tree_text(browser, html, requests)
    lines = text.splitlines()
    shown = {line.split(" ")[0] for line, count in zip(lines, lines[1:], strict=False) if count == "1"}
    missing = [i["id"] for i in run.verdict["items"] if i["id"] not in shown]
    assert missing == [], f"items not shown in the report: {missing}"
    assert requests and all(u.startswith(LOCAL) for u in requests), [u for u in requests if not u.startswith(LOCAL)]
    assert json.loads((run.run_dir / "cucumber.json").read_text())  # Cucumber JSON beside JUnit
    assert (run.run_dir.parent / ".history-sandbox" / "history.json").exists()


@pytest.mark.slow
@pytest.mark.parametrize("fault", [None, "grafana_dashboards_missing"], ids=["healthy", "faulty"])
def test_first_screen_is_the_verdict(fault: str | None, run_for: Callable[[str | None], Run], browser: Any) -> None:
    run = run_for(fault)
    assert run.verdict is not None and run.run_dir is not None, run.output[-2000:]
    requests: list[str] = []
    text = first_screen_text(browser, run.run_dir / "html" / "index.html", requests)
    assert f"Verdict: {run.verdict['verdict']}" in text
    assert run.verdict["verdict"] == ("NO-GO" if fault else "GO")
    assert "A. Operator" in text and "B. Witness" in text and run.run_dir.name in text
    assert run.verdict["results_sha256"] in text
    assert requests and all(u.startswith(LOCAL) for u in requests), requests
    manifest = (run.run_dir / "results.sha256").read_bytes()
    # the manifest lists every file, the Allure report and the page included (the page's seal line, which shows the
    # manifest's hash, in its canonical form: tests/test_seal.py)
    assert f"{run.run_dir.name}/html/allure.html".encode() in manifest
    assert f"{run.run_dir.name}/html/index.html".encode() in manifest
    assert hashlib.sha256(manifest).hexdigest() == run.verdict["results_sha256"]
