"""ops_checks.report.html: offline check, analytics removal, results-dir metadata, rendering (fake and real Allure)."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ops_checks.core.result import Cause
from ops_checks.report import html as report
from ops_checks.report import result_files
from ops_checks.report.html import ReportError
from ops_checks.verdict import verdict as verdicts

REPO_ROOT = Path(__file__).resolve().parents[1]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def write(tmp_path: Path, html: str, name: str = "index.html") -> Path:
    p = tmp_path / name
    p.write_text(html, encoding="utf-8")
    return p


# What Allure 2.46.1 `generate --single-file` writes without ALLURE_NO_ANALYTICS (abridged, verbatim shape).
ALLURE_GTAG = """\
    <!-- allure-core-body:end -->
    <script async src="https://www.googletagmanager.com/gtag/js?id=G-FVWC4GKEYS"></script>
    <script>
        window.dataLayer = window.dataLayer || [];
        function gtag(){dataLayer.push(arguments);}
        gtag('js', new Date());
        gtag('config', 'G-FVWC4GKEYS', {
          'allureVersion': '2.46.1',
          'reportUuid': 'fe06ca0e-3fe1-4d9e-85bf-2a256237f5ce',
          'single_file': true
        });
    </script>
"""


def allure_like_page(extra_head: str = "", extra_body: str = "") -> str:
    app = "(function(){var s=document.createElement('svg');s.setAttribute('xmlns','http://www.w3.org/2000/svg');})();"
    return f"""<!DOCTYPE html>
<html dir="ltr" lang="en">
<head>
    <meta charset="utf-8">
    <title>ops_checks preflight</title>
    <link rel="icon" href="data:image/x-icon;base64,AAABAAMAEBAAAAEAIABoBAAANgAA">
{extra_head}</head>
<body>
    <div id="content"></div>
    <a href="https://github.com/allure-framework">a link is not a load</a>
    <script src="data:text/javascript; charset=utf-8;base64,{b64(app)}"></script>
{extra_body}    <script async>
        window.reportData = window.reportData || {{}};
        function d(name, value){{ return new Promise(function (r) {{window.reportData[name] = value;r(true)}}); }}
    </script>
    <script defer>
      Promise.allSettled([
        d('data/test-cases/1.json','{b64(json.dumps({"name": "Kill switch halts", "url": "https://api.valr.com/v1/x"}))}'),
        d('data/attachments/2.txt','{b64("GET https://api.valr.com/v1/public/time -> 200")}'),
      ])
    </script>
</body>
</html>
"""


# --------------------------------------------------------------------------- assert_offline


def test_clean_page_is_offline(tmp_path):
    assert report.assert_offline(write(tmp_path, allure_like_page())) == []


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ('<script src="https://cdn.example.com/app.js"></script>', "<script src> https://cdn.example.com/app.js"),
        ("<link rel=stylesheet href='http://cdn.example.com/a.css'>", "<link href> http://cdn.example.com/a.css"),
        ('<img alt="x" src="//cdn.example.com/logo.png">', "<img src> //cdn.example.com/logo.png"),
        ('<iframe src="https://example.com/frame"></iframe>', "<iframe src> https://example.com/frame"),
        ("<style>body{background:url('https://example.com/bg.png')}</style>", "css url() https://example.com/bg.png"),
        ('<style>@import "https://fonts.example.com/f.css";</style>', "css @import https://fonts.example.com/f.css"),
        ("<style>@import url(https://fonts.example.com/g.css);</style>", "css @import https://fonts.example.com/g.css"),
        ('<script>fetch("https://api.example.com/t")</script>', "fetch() https://api.example.com/t"),
        (
            "<script>var x=new XMLHttpRequest();x.open('GET', 'http://api.example.com/u')</script>",
            "XMLHttpRequest http://api.example.com/u",
        ),
        (
            "<script>navigator.sendBeacon('https://b.example.com/c')</script>",
            "beacon/event source https://b.example.com/c",
        ),
        (
            "<script>var u='www.google-analytics.com/analytics.js'</script>",
            "analytics www.google-analytics.com/analytics.js",
        ),
    ],
)
def test_each_kind_of_external_reference_is_found(tmp_path, snippet, expected):
    refs = report.assert_offline(write(tmp_path, allure_like_page(extra_body=f"    {snippet}\n")))
    assert expected in refs


def test_allure_gtag_is_reported(tmp_path):
    refs = report.assert_offline(write(tmp_path, allure_like_page(extra_body=ALLURE_GTAG)))
    assert "<script src> https://www.googletagmanager.com/gtag/js?id=G-FVWC4GKEYS" in refs
    assert any(r.startswith("analytics ") and "googletagmanager.com" in r for r in refs)


def test_references_inside_inlined_bundle_and_rendered_attachments_are_found(tmp_path):
    bundle = 'fetch("https://evil.example.com/x");'
    attachment = '<html><img src="https://tracker.example.com/p.gif"></html>'
    body = (
        f'    <script src="data:text/javascript;base64,{b64(bundle)}"></script>\n'
        f"    <script>d('data/attachments/9.html','{b64(attachment)}')</script>\n"
    )
    refs = report.assert_offline(write(tmp_path, allure_like_page(extra_body=body)))
    assert "fetch() https://evil.example.com/x (in data:text/javascript)" in refs
    assert "<img src> https://tracker.example.com/p.gif (in data/attachments/9.html)" in refs


def test_urls_in_test_data_and_links_are_not_loads(tmp_path):
    # The page holds https URLs in an <a href>, an SVG namespace, a JSON test case and a text attachment.
    html = allure_like_page()
    assert "https://github.com/allure-framework" in html
    assert report.assert_offline(write(tmp_path, html)) == []


def test_offline_scan_ignores_case_and_needs_a_word_boundary(tmp_path):
    body = (
        '    <SCRIPT type="module" SRC="HTTPS://CDN.example.com/App.js"></SCRIPT>\n'
        "    <script>prefetch('https://a.example.com/x'); new WebSocket('wss://s.example.com/w')</script>\n"
        "    <script>d('data/attachments/1.txt','{}')</script>\n".format(b64('<img src="https://t.example.com/p">'))
    )
    refs = report.assert_offline(write(tmp_path, allure_like_page(extra_body=body)))
    assert "<script src> HTTPS://CDN.example.com/App.js" in refs  # the original spelling is reported
    assert "websocket wss://s.example.com/w" in refs
    assert not any("a.example.com" in r for r in refs)  # prefetch( is not fetch(
    assert not any("t.example.com" in r for r in refs)  # a text attachment is shown as text, never rendered


def test_references_are_deduplicated(tmp_path):
    tag = '<img src="https://x.example.com/a.png">'
    refs = report.assert_offline(write(tmp_path, allure_like_page(extra_body=f"{tag}\n{tag}\n")))
    assert refs == ["<img src> https://x.example.com/a.png"]


# --------------------------------------------------------------------------- strip_analytics


def test_strip_analytics_removes_allure_gtag_and_keeps_the_rest(tmp_path):
    page = write(tmp_path, allure_like_page(extra_body=ALLURE_GTAG))
    assert report.strip_analytics(page) == 2
    stripped = page.read_text()
    assert report.assert_offline(page) == []
    assert "gtag" not in stripped and "dataLayer" not in stripped
    # Everything else survives byte for byte.
    assert stripped == allure_like_page(extra_body="    <!-- allure-core-body:end -->\n")


def test_strip_analytics_removes_preconnect_and_ga_loader(tmp_path):
    head = '    <link rel="preconnect" href="https://www.google-analytics.com">\n'
    body = (
        "    <script>(function(i,s,o,g,r){})(window,document,'script',"
        "'//www.google-analytics.com/analytics.js','ga');</script>\n"
    )
    page = write(tmp_path, allure_like_page(extra_head=head, extra_body=body))
    assert report.strip_analytics(page) == 2
    assert report.assert_offline(page) == []


def test_strip_analytics_is_a_noop_on_a_clean_page(tmp_path):
    page = write(tmp_path, allure_like_page())
    before = page.read_bytes()
    mtime = page.stat().st_mtime_ns
    assert report.strip_analytics(page) == 0
    assert page.read_bytes() == before
    assert page.stat().st_mtime_ns == mtime


def test_strip_analytics_leaves_other_inline_scripts(tmp_path):
    keep = "    <script>window.reportDataReady = true;</script>\n"
    page = write(tmp_path, allure_like_page(extra_body=keep + ALLURE_GTAG))
    report.strip_analytics(page)
    assert keep in page.read_text()


# --------------------------------------------------------------------------- results-dir metadata


def test_write_environment_escapes_like_java_properties(tmp_path):
    path = report.write_environment(
        tmp_path,
        {
            "target": "sandbox",
            "DB host:port": "127.0.0.1:5432",
            "weird=key": "a=b:c #x !y\\z",
            "note": " leading space\tand tab\nnewline",
            "unicode": "Zürich ₿ 😀",
            "empty": "",
        },
    )
    assert path == tmp_path / "environment.properties"
    raw = path.read_bytes()
    raw.decode("ascii")  # ISO-8859-1-safe: Allure reads it with Properties.load(InputStream)
    assert raw.decode().splitlines() == [
        "target=sandbox",
        "DB\\ host\\:port=127.0.0.1\\:5432",
        "weird\\=key=a\\=b\\:c \\#x \\!y\\\\z",
        "note=\\ leading space\\tand tab\\nnewline",
        "unicode=Z\\u00FCrich \\u20BF \\uD83D\\uDE00",
        "empty=",
    ]


def test_write_environment_roundtrips_through_a_properties_reader(tmp_path):
    props = {"k e=y:": "v\\al\nue ü", "operator": "Alice O'Neil"}
    text = report.write_environment(tmp_path, props).read_text()
    assert parse_properties(text) == props


def parse_properties(text: str) -> dict[str, str]:
    """A small java.util.Properties.load() for single-line entries (what write_environment emits)."""
    escapes = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}

    def unescape(s: str) -> str:
        s = re.sub(r"\\u([0-9A-Fa-f]{4})", lambda m: chr(int(m[1], 16)), s)
        s = s.encode("utf-16", "surrogatepass").decode("utf-16")
        return re.sub(r"\\(.)", lambda m: escapes.get(m[1], m[1]), s)

    out = {}
    for line in text.splitlines():
        m = re.match(r"((?:\\.|[^\\=:\s])*)\s*[=:]\s*(.*)$", line)
        assert m, line
        out[unescape(m[1])] = unescape(m[2])
    return out


def test_write_executor(tmp_path):
    path = report.write_executor(tmp_path, "opscheck", "preflight 2026-11-22", "ops_checks preflight", build_order=7)
    data = json.loads(path.read_text())
    assert data == {
        "name": "opscheck",
        "type": "opscheck",
        "buildName": "preflight 2026-11-22",
        "reportName": "ops_checks preflight",
        "buildOrder": 7,
    }
    assert "url" not in json.dumps(data).lower()


def a_verdict() -> dict:
    """Two causes: C1 (1.2.1 and 6.4.7 failed, 3.1.2 failed and 3.3.1 not verified resting on them), C2 (1.4.3);
    one item waived, one out of the declared scope, one that could not run (its own cause)."""
    now = datetime.now(UTC)
    read_only = Cause("read_only", "VALR", "VALR is read-only", "wait for VALR to open")
    return verdicts.build(
        [
            verdicts.outcome("1.1.1", "passed"),
            verdicts.outcome("1.2.1", "failed", "VALR status is read-only", cause=read_only),
            verdicts.outcome("6.4.7", "failed", "VALR status is read-only", cause=read_only),
            verdicts.outcome("1.4.3", "failed", "no dashboards found"),
            verdicts.outcome("3.1.2", "failed", "§1 not met", blocked_by=("1.2.1", "1.4.3")),
            verdicts.outcome("3.3.1", "not_verified", "transition refused", blocked_by=("3.1.2",)),
            verdicts.outcome("1.5.1", "waived", "waived until 2099-01-01 by X: migrating"),
            verdicts.outcome("sop.1.1", "not_applicable", "CDP is out of the declared scope (scope.yml)"),
            verdicts.outcome("8.6.1", "error", "the check raised ValueError"),
        ],
        target="sandbox",
        started_at=now,
        finished_at=now,
        operator=None,
        witness=None,
    ) | {"run_id": "run-1"}


def first_category(cats: list[dict], status: str, message: str) -> str | None:
    """What Allure 2 does: the first category whose statuses hold the result's and whose regex (Java
    Matcher.matches(): the whole message) matches; Allure's own for a failed or broken result that none takes."""
    for c in cats:
        if status in c["matchedStatuses"] and ("messageRegex" not in c or re.fullmatch(c["messageRegex"], message)):
            return c["name"]
    return None


def test_categories_are_by_status_then_by_cause_from_the_structured_status(tmp_path):
    verdict = a_verdict()
    cats = json.loads(report.write_categories(tmp_path, verdict).read_text())
    index = result_files.Index(verdict)
    allure_status = result_files.ALLURE_STATUS
    placed = {
        i["id"]: first_category(cats, allure_status[i["status"]], result_files.full_message(i, index))
        for i in verdict["items"]
        if i["status"] != "passed"
    }
    c1, c2, c3 = (next(c for c in verdict["causes"] if c["roots"][0] == r)["id"] for r in ("1.2.1", "1.4.3", "8.6.1"))
    assert placed["1.2.1"] == placed["6.4.7"] == placed["3.1.2"] == f"Failed — {c1}: VALR is read-only"
    assert placed["3.3.1"] == f"Not verified — {c1}: VALR is read-only"  # its first cause of two
    assert placed["1.4.3"].startswith(f"Failed — {c2}: 1.4.3 Grafana dashboards: no dashboards found")
    assert placed["8.6.1"].startswith(f"Error — {c3}: ")
    assert placed["1.5.1"] == "Waived: failed, under an approved waiver"
    assert placed["sop.1.1"] == "Not applicable: out of the declared scope"
    # without a verdict (a plain pytest run): one category per status, no cause
    plain = report.categories()
    assert [c["name"].split(":")[0] for c in plain] == ["Failed", "Error", "Not verified", "Not applicable", "Waived"]
    assert first_category(plain, "skipped", "NOT VERIFIED: no database") == "Not verified: nothing was checked"
    assert first_category(plain, "skipped", "Skipped: something else") is None
    assert first_category(plain, "broken", "anything") == "Error: the check could not run"


def test_the_overview_names_the_verdict_and_keeps_the_plugins_environment(tmp_path):
    verdict = a_verdict()
    report.write_environment(tmp_path, {"target": "sandbox", "operator": "", "db": "h:1/db"})
    report.write_executor(tmp_path, "opscheck (A. Operator)", "run-1", "ops_checks preflight", build_order=3)
    report.write_overview(tmp_path, verdict)
    executor = json.loads((tmp_path / "executor.json").read_text())
    assert executor == {
        "name": "opscheck (A. Operator)",
        "type": "opscheck",
        "buildName": "run-1",
        "reportName": "ops_checks preflight (sandbox) — NO-GO (3 causes, 6 items)",
        "buildOrder": 3,
    }
    props = parse_properties((tmp_path / "environment.properties").read_text(encoding="ascii"))
    assert list(props)[:2] == ["verdict", "run"] and props["verdict"] == "NO-GO — 3 causes, 6 items"
    assert props["target"] == "sandbox" and props["operator"] == "" and props["db"] == "h:1/db"
    assert props["C1"] == "VALR is read-only (remedy: wait for VALR to open)"
    report.write_overview(tmp_path, verdict)  # again: the same file, nothing doubled
    assert parse_properties((tmp_path / "environment.properties").read_text(encoding="ascii")) == props
    go = verdicts.build(
        [verdicts.outcome("1.1.1", "passed")],
        target="live",
        started_at=datetime.now(UTC),
        finished_at=datetime.now(UTC),
        operator=None,
        witness=None,
    )
    assert report.report_name(go) == "ops_checks preflight (live) — GO"


# --------------------------------------------------------------------------- render_single_file with a fake CLI


def fake_allure(tmp_path: Path, body: str) -> Path:
    """A stand-in `allure` that logs its args and env, then runs body (args: generate ... -o OUT ... RESULTS)."""
    path = tmp_path / "bin" / "allure"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "#!/usr/bin/env bash\n"
        f'echo "$@" > "{tmp_path}/args"\n'
        f'echo "$ALLURE_NO_ANALYTICS" > "{tmp_path}/env"\n'
        'out=""; prev=""; for a in "$@"; do [ "$prev" = "-o" ] && out="$a"; prev="$a"; done\n' + body + "\n"
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def results(tmp_path: Path) -> Path:
    res = tmp_path / "allure-results"
    res.mkdir()
    return res


def test_render_passes_single_file_clean_name_and_no_analytics(tmp_path):
    page = allure_like_page(extra_body=ALLURE_GTAG).replace("$", "\\$").replace("`", "\\`")
    body = f'rm -rf "$out"; mkdir -p "$out"; cat > "$out/index.html" <<EOF\n{page}EOF'
    allure = fake_allure(tmp_path, body)
    res = results(tmp_path)
    html = report.render_single_file(res, tmp_path / "out", allure_bin=allure, title="run 42")
    assert html == (tmp_path / "out" / "index.html").resolve()
    args = (tmp_path / "args").read_text().split()
    assert args[:3] == ["generate", "--single-file", "--clean"]
    assert "--name" in args and args[-1] == str(res.resolve())
    assert (tmp_path / "env").read_text().strip() == "true"
    # The fake emitted Allure's gtag snippet: render_single_file stripped it.
    assert report.assert_offline(html) == []


def test_render_fails_when_the_html_still_loads_something(tmp_path):
    body = 'mkdir -p "$out"; echo \'<img src="https://x.example.com/a.png">\' > "$out/index.html"'
    with pytest.raises(ReportError, match=r"references the network: <img src> https://x.example.com/a.png"):
        report.render_single_file(results(tmp_path), tmp_path / "out", allure_bin=fake_allure(tmp_path, body))


def test_render_reports_last_stderr_line_on_failure(tmp_path):
    body = 'echo "first line" >&2; echo "Could not find results directory" >&2; exit 3'
    with pytest.raises(ReportError, match=r"^allure generate exited 3: Could not find results directory$"):
        report.render_single_file(results(tmp_path), tmp_path / "out", allure_bin=fake_allure(tmp_path, body))


def test_render_retries_without_name_on_an_old_allure(tmp_path):
    body = (
        'case " $* " in *" --name "*) echo "Was passed main parameter \'--name\' but no main parameter" >&2; exit 1;; '
        'esac; mkdir -p "$out"; echo "<html></html>" > "$out/index.html"'
    )
    html = report.render_single_file(results(tmp_path), tmp_path / "out", allure_bin=fake_allure(tmp_path, body))
    assert html.is_file()
    assert "--name" not in (tmp_path / "args").read_text()


def test_render_times_out_and_kills_the_process(tmp_path):
    allure = fake_allure(tmp_path, "sleep 30")
    t0 = time.monotonic()
    with pytest.raises(ReportError, match=r"timed out after 0.5 s"):
        report.render_single_file(results(tmp_path), tmp_path / "out", allure_bin=allure, timeout_s=0.5)
    assert time.monotonic() - t0 < 10


def test_render_errors_are_one_line(tmp_path):
    res = results(tmp_path)
    with pytest.raises(ReportError, match=r"allure binary not found") as exc:
        report.render_single_file(res, tmp_path / "out", allure_bin=tmp_path / "nope")
    assert "\n" not in str(exc.value)
    allure = fake_allure(tmp_path, "exit 0")
    with pytest.raises(ReportError, match=r"results dir not found"):
        report.render_single_file(tmp_path / "missing", tmp_path / "out", allure_bin=allure)
    with pytest.raises(ReportError, match=r"wrote no"):
        report.render_single_file(res, tmp_path / "out", allure_bin=allure)
    with pytest.raises(ReportError, match=r"--clean would delete"):
        report.render_single_file(res, tmp_path, allure_bin=allure)


def test_find_allure(tmp_path, monkeypatch):
    monkeypatch.delenv("ALLURE_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert report.find_allure(tmp_path) is None
    binary = report.allure_bin_in(tmp_path)
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    assert report.find_allure(tmp_path) == binary
    other = fake_allure(tmp_path, "exit 0")
    monkeypatch.setenv("ALLURE_BIN", str(other))
    assert report.find_allure(tmp_path) == other


# --------------------------------------------------------------------------- real Allure (slow)


def allure_result(name: str, status: str, message: str | None = None, story: str = "4.4.3") -> dict:
    now = int(time.time() * 1000)
    data = {
        "uuid": str(uuid.uuid4()),
        "historyId": f"hist-{name}",
        "testCaseId": f"case-{name}",
        "name": name,
        "fullName": f"features/kill_switch.feature::{name}",
        "status": status,
        "stage": "finished",
        "start": now,
        "stop": now + 25,
        "labels": [
            {"name": "epic", "value": "Live trading runbook"},
            {"name": "feature", "value": "4 Kill switch"},
            {"name": "story", "value": story},
            {"name": "severity", "value": "blocker"},
            {"name": "framework", "value": "pytest-bdd"},
        ],
        "steps": [
            {
                "name": "Given the sandbox is running",
                "status": "passed",
                "stage": "finished",
                "start": now,
                "stop": now + 5,
            }
        ],
    }
    if message:
        data["statusDetails"] = {"message": message}
    return data


@pytest.mark.slow
def test_real_allure_renders_one_offline_file_that_shows_the_verdict(tmp_path):
    allure = report.allure_bin_in(REPO_ROOT)
    if not os.access(allure, os.X_OK):
        pytest.skip(f"Allure CLI not installed at {allure.relative_to(REPO_ROOT)} (run scripts/install-allure.sh)")
    res = results(tmp_path)
    for item in (
        allure_result("1.1.1 Database connectivity", "passed", story="1.1.1 Database connectivity"),
        allure_result(
            "1.2.1 VALR API reachable", "failed", "AssertionError: VALR status is read-only", "1.2.1 VALR API reachable"
        ),
        allure_result(
            "3.3.1 Audit record created", "skipped", "Skipped: transition refused", "3.3.1 Audit record created"
        ),
    ):
        (res / f"{item['uuid']}-result.json").write_text(json.dumps(item))
    report.write_environment(res, {"target": "sandbox", "db": "127.0.0.1:5432/autonomous_alpha"})
    report.write_executor(res, "opscheck", "preflight test", "ops_checks preflight")
    verdict = a_verdict()
    result_files.rewrite_all(junit=None, allure=res, cucumber=None, verdict=verdict)

    out = tmp_path / "report"
    name = report.report_name(verdict)
    html = report.render_single_file(res, out, allure_bin=allure, title=name, timeout_s=120)

    assert html == out.resolve() / "index.html"
    assert [p.name for p in out.iterdir()] == ["index.html"]
    assert report.assert_offline(html) == []
    text = html.read_text()
    assert "googletagmanager" not in text
    assert f"<title>{name}</title>" in text
    files = report.embedded_files(html)
    # the overview: the verdict is the report's name, the first line of its environment, and its categories
    assert (
        json.loads(files["widgets/summary.json"])["reportName"]
        == "ops_checks preflight (sandbox) — NO-GO (3 causes, 6 items)"
    )
    env = json.loads(files["widgets/environment.json"])
    assert {"name": "verdict", "values": ["NO-GO — 3 causes, 6 items"]} in env
    assert {"name": "target", "values": ["sandbox"]} in env
    shown = {c["name"]: c["statistic"]["total"] for c in json.loads(files["widgets/categories.json"])["items"]}
    assert shown == {"Failed — C1: VALR is read-only": 1, "Not verified — C1: VALR is read-only": 1}
    inlined = b"".join(files.values()).decode("utf-8", "replace")
    assert "NOT VERIFIED: transition refused" in inlined and "Skipped: transition refused" not in inlined


def test_history_is_carried_in_and_kept_from_the_single_file_page(tmp_path):
    kept = tmp_path / ".history-sandbox"
    kept.mkdir()
    (kept / "history.json").write_text('{"old": 1}')
    (kept / "stale.json").write_text("{}")
    results = tmp_path / "allure-results"
    results.mkdir()
    report.carry_history(results, kept)
    assert (results / "history" / "history.json").read_text() == '{"old": 1}'
    page = tmp_path / "index.html"
    page.write_text(
        "<script>d('history/history.json','{}');d('history/history-trend.json','{}');"
        "d('data/test-cases/1.json','{}')</script>".format(b64('{"new": 2}'), b64("[1, 2]"), b64("{}"))
    )
    report.keep_history(page, kept)
    assert sorted(p.name for p in kept.iterdir()) == ["history-trend.json", "history.json"]
    assert (kept / "history.json").read_text() == '{"new": 2}'
    empty = tmp_path / "empty.html"
    empty.write_text("<html></html>")
    with pytest.raises(report.ReportError):
        report.keep_history(empty, kept)
    assert (kept / "history.json").read_text() == '{"new": 2}'  # a page without history leaves the kept one
