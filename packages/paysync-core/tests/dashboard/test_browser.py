"""The dashboard in a real headless Chromium (Debian's ``/usr/bin/chromium`` via Playwright).

Log in, watch a flow fail live on the overview, retry it from the dead-letter page and watch
it succeed on the flow page without reloading; a CSRF-less POST is rejected; an
unauthenticated visit is redirected to the login page. Screenshots of the main pages land in
``build/screenshots/`` at the repository root.

Skips only when Chromium is absent and ``PAYSYNC_REQUIRE_BROWSER`` is not set (CI sets it).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from paysync_core import DeadLetterQueue
from paysync_core.app import registered
from paysync_core.app._describe import describe_steps
from paysync_core.dashboard import create_app, load_config

from .conftest import OPERATOR, SF_CHANNEL, USE_CASE, Demo, write_reconcile_report
from .test_integration import KEY, KEY_ENV, paysync_toml

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[4] / "build" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000

if not CHROMIUM.exists() and not os.environ.get("PAYSYNC_REQUIRE_BROWSER"):
    pytest.skip(
        "no /usr/bin/chromium (set PAYSYNC_REQUIRE_BROWSER=1 to fail)", allow_module_level=True
    )


@dataclass
class Live:
    base: str
    demo: Demo
    worker_on: threading.Event


@contextmanager
def serving(app: Flask) -> Generator[str]:
    """``app`` on 127.0.0.1:<free port>; yields its base URL."""
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def live(demo: Demo) -> Iterator[Live]:
    """The app on 127.0.0.1:<free port> and a worker looping ``run_pending`` when enabled."""
    stop, worker_on = threading.Event(), threading.Event()

    def work() -> None:
        while not stop.is_set():
            if worker_on.is_set():
                demo.engine.run_pending()
            stop.wait(0.1)

    worker = threading.Thread(target=work, daemon=True)
    with serving(create_app(demo.config)) as base:
        worker.start()
        yield Live(base, demo, worker_on)
        stop.set()
        worker.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_fail_retry_and_succeed_live(live: Live, page: Page) -> None:
    page.goto(f"{live.base}/dlq")
    expect(page).to_have_url(re.compile(r"/login\?next=/dlq"))
    shot(page, "01-login")
    page.fill("input[name=username]", OPERATOR[0])
    page.fill("input[name=password]", OPERATOR[1])
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live.base}/dlq")
    page.goto(f"{live.base}/")
    expect(page.locator("#open-dlq")).to_have_text("0")

    # a flow fails while we watch the overview
    live.demo.fail_next_charge()  # whichever flow charges first is rejected
    live.demo.submit("INV-LIVE")
    live.demo.submit("INV-OK")
    live.worker_on.set()
    expect(page.locator("#open-dlq")).to_have_text("1")
    (entry,) = DeadLetterQueue(live.demo.store).list()
    expect(page.locator("#flow-counts")).to_contain_text(USE_CASE)
    expect(page.locator("#recent-dead")).to_contain_text(entry.flow_id[:12])
    expect(page.locator("#chart-throughput rect.bar-bad").first).to_be_attached()
    # the error-rate line: one point per minute of the hour, one above the 0 % baseline
    line = page.locator("#chart-errors svg polyline.rate-line")
    expect(line).to_be_attached()
    points = [p.split(",") for p in (line.get_attribute("points") or "").split()]
    assert len(points) == 60
    baseline = 90 - 16  # the chart's height minus its padding (dashboard.js rateChart)
    assert any(float(y) < baseline for _, y in points)
    assert all(0 <= float(y) <= baseline for _, y in points)
    shot(page, "02-overview")

    # retry it from the dead-letter queue, with the worker paused so we can watch it finish
    live.worker_on.clear()
    page.click("text=Dead letters")
    row = page.locator("#dlq tbody tr").first
    expect(row).to_contain_text("charge")
    shot(page, "03-dead-letters")
    row.locator("a").first.click()
    expect(page.locator("#evidence")).to_be_visible()
    shot(page, "04-dead-letter-entry")
    page.click("#retry")
    expect(page).to_have_url(f"{live.base}/flows/{entry.flow_id}")
    state = page.locator("#flow-state")
    expect(state).to_have_text("pending")
    live.worker_on.set()
    expect(state).to_have_text("succeeded")  # by polling, no reload
    expect(page.locator("#steps tr[data-step=post_receipt] .step-state")).to_have_text("succeeded")
    expect(page.locator("#audit")).to_contain_text("dlq.retried")
    shot(page, "05-flow-detail")

    write_reconcile_report(live.demo.reports, "2026-11-22", "2026-11-01", "2026-11-21")
    write_reconcile_report(live.demo.reports, "2026-11-23", "2026-11-22", "2026-11-22")
    for path, name in (
        ("/audit", "06-audit"),
        ("/use-cases/order_to_cash", "07-use-case"),
        ("/reports", "08-reports"),
    ):
        page.goto(f"{live.base}{path}")
        expect(page.locator("h1")).to_be_visible()
        shot(page, name)
    expect(page.locator("body")).not_to_contain_text("4111111111111111")


def test_csrf_less_post_rejected_and_anonymous_redirected(live: Live, page: Page) -> None:
    live.demo.fail_next_charge()
    live.demo.submit("INV-CSRF")
    live.demo.engine.run_pending()
    page.goto(f"{live.base}/flows/anything")
    expect(page).to_have_url(re.compile(r"/login\?next=/flows/anything$"))
    page.fill("input[name=username]", OPERATOR[0])
    page.fill("input[name=password]", OPERATOR[1])
    page.click("button[type=submit]")
    page.goto(f"{live.base}/dlq")
    href = page.locator("#dlq tbody tr a").first.get_attribute("href")
    assert href is not None
    # the session cookie rides along (same browser context); the CSRF token does not
    response = page.request.post(f"{live.base}{href}/retry", form={"note": "x"})
    assert response.status == 400
    assert "CSRF" in response.text()
    page.goto(f"{live.base}/dlq")
    expect(page.locator("#dlq tbody tr").first).to_contain_text("open")


def test_demo_ledger_from_paysync_toml(
    demo_ledger: Path, tmp_path: Path, page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger of ``paysync demo`` behind a ``paysync.toml`` with ``[dashboard]``: input
    streams with lag, a registered use case's flow and rules, a reconciliation report."""
    monkeypatch.setenv(KEY_ENV, KEY)
    file = paysync_toml(
        tmp_path,
        demo_ledger,
        usecases='[usecases.order_to_cash]\nclosed_won_stage = "Won"\n',
    )
    write_reconcile_report(tmp_path / "reports", "2026-11-23", "2026-11-22", "2026-11-22")
    with serving(create_app(load_config(file))) as base:
        page.goto(f"{base}/")
        page.fill("input[name=username]", OPERATOR[0])
        page.fill("input[name=password]", OPERATOR[1])
        page.click("button[type=submit]")
        streams = page.locator("#streams")
        expect(streams).to_contain_text(SF_CHANNEL)
        expect(streams).to_contain_text("paytrace-polling")
        expect(streams).to_contain_text(re.compile(r"\d+ min"))  # the checkpoint's lag
        expect(page.locator("#flow-counts")).to_contain_text("salesforce_recurring_billing")
        shot(page, "09-overview-demo-ledger")

        page.click("text=Use cases")
        expect(page.locator(".card")).to_have_count(len(registered()))  # one per use case
        shot(page, "10-use-cases")
        page.click("text=Salesforce Opportunity Closed Won to cash")
        order_to_cash = next(e for e in registered() if e.name == "order_to_cash")
        steps = len(describe_steps(order_to_cash))
        expect(page.locator("svg.flowchart rect.node")).to_have_count(steps)
        rule = page.locator("#rules tr.configured")
        expect(rule).to_contain_text("closed_won_stage")
        expect(rule).to_contain_text("paysync.toml")
        shot(page, "11-use-case-order-to-cash")

        page.click("nav >> text=Reconciliation")
        expect(page.locator("ul.reports li")).to_have_count(2)  # the HTML and the JSON
        shot(page, "12-reports-reconcile")
        with page.expect_popup() as opened:
            page.click("text=2026-11-23/reconcile-2026-11-22-2026-11-22.html")
        report = opened.value
        expect(report.locator("h1")).to_have_text("Reconciliation report")
        shot(report, "13-reconcile-report")
