"""The reports page, its SVG charts and its CSV/JSON exports over real HTTPS: who may open them,
what they hold, and that a chart is an image without any script; the dashboard's alerts with the
``[web] alert_*`` thresholds."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path
from typing import get_args

import httpx
import pytest

from oathdesk.config import Config
from oathdesk.domain import ConfigError, FixedClock, Secret
from oathdesk.service import Inventory
from oathdesk.service.reports import REPORTS
from oathdesk.store import TokenState
from oathdesk.web import WebSettings
from oathdesk.web.routes_reports import ReportName
from oathdesk.web.settings import AlertSettings
from tests.web.conftest import Server, add_tokens, new_client, signed_in

STAFF = {"ada", "hal", "aud"}
PATHS = [
    ("/reports", "page"),
    ("/reports/charts/stock.svg", "page"),
    ("/reports/stock.csv", "page"),
    ("/reports/stock.json", "page"),
    ("/api/v1/reports/stock", "api"),
]
COVERED: set[tuple[str, str]] = {
    ("GET", "/reports"),
    ("GET", "/reports/charts/{name}.svg"),
    ("GET", "/reports/{name}.csv"),
    ("GET", "/reports/{name}.json"),
    ("GET", "/api/v1/reports/{name}"),
}


@pytest.fixture
def stocked(inv: Inventory, accounts: dict[str, list[str]]) -> Inventory:
    serials = [f"R{i:03d}" for i in range(1, 21)] + ["=CMD1"]
    add_tokens(
        inv,
        serials,
        states={"assigned": ["R011", "R012"], "activated": ["R013", "R014", "R015"]},
    )
    with inv.uow() as uow:
        lost = uow.tokens.get_for_update("R015")
        uow.tokens.move(lost, TokenState.LOST)
        failed = uow.tokens.get_for_update("R012")
        uow.tokens.move(failed, TokenState.FAILED_ACTIVATION)
    return inv


def test_staff_may_read_the_reports_and_nobody_else(
    app_url: str, server: Server, stocked: Inventory
) -> None:
    for who in ("ada", "hal", "aud", "joe", "anonymous"):
        with new_client(app_url, server) as client:
            if who != "anonymous":
                signed_in(client, who)
            for path, kind in PATHS:
                response = client.get(path)
                where = f"{who} {path}"
                if who in STAFF:
                    assert response.status_code == 200, where
                elif who == "anonymous":
                    assert response.status_code == (303 if kind == "page" else 401), where
                else:
                    assert response.status_code == 403, where


def test_the_page_shows_every_report_with_its_chart_table_and_exports(
    client: httpx.Client, stocked: Inventory
) -> None:
    signed_in(client, "aud")
    page = client.get("/reports").text
    for name in REPORTS:
        assert f'<section class="report" id="{name}"' in page
        assert f'<img class="report-chart" src="/reports/charts/{name}.svg' in page
        assert f'href="/reports/{name}.csv' in page and f'href="/reports/{name}.json' in page
    assert 'href="/reports/unused.csv?days=90"' in page
    assert '<table class="data" id="lost-table">' in page
    assert '<a href="/tokens/R015">R015</a>' in page
    assert '<a href="/tokens/R012">R012</a>' in page  # the failed activation
    assert 'stylesheet" href="/static/reports.css"' in page or "/static/reports.css" in page
    assert "<style" not in page and "style=" not in page  # the CSP allows neither
    assert '<a href="/reports" aria-current="page">Reports</a>' in page


def test_a_chart_is_an_svg_image_without_script_under_its_own_csp(
    client: httpx.Client, stocked: Inventory
) -> None:
    signed_in(client, "hal")
    for name in REPORTS:
        response = client.get(f"/reports/charts/{name}.svg")
        assert response.status_code == 200, name
        assert response.headers["content-type"] == "image/svg+xml", name
        body = response.text
        assert "<svg" in body and "<script" not in body.lower(), name
        assert "javascript:" not in body.lower(), name
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp, name
    stock = client.get("/reports/charts/stock.svg").text
    assert "Stock by model and batch" in stock and "stock.csv" in stock  # the batch label
    assert client.get("/reports/charts/nothing.svg").status_code == 404


def test_csv_and_json_exports_hold_the_same_rows(client: httpx.Client, stocked: Inventory) -> None:
    signed_in(client, "ada")
    response = client.get("/reports/stock.csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="oathdesk-stock-'
    )
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["manufacturer", "model", "batch", "imported_at", "tokens"]
    assert rows[1][:3] == ["Token2", "C302", "stock.csv"] and rows[1][4] == "16"
    as_json = client.get("/reports/stock.json")
    assert as_json.headers["content-type"] == "application/json"
    doc = as_json.json()
    assert doc["rows"] == [dict(zip(rows[0], [*rows[1][:4], 16], strict=True))]
    assert client.get("/api/v1/reports/stock").json()["rows"] == doc["rows"]
    lost = list(csv.reader(io.StringIO(client.get("/reports/lost.csv").text)))
    assert [r[0] for r in lost[1:]] == ["R015"]
    assert client.get("/reports/nothing.csv").status_code == 404
    assert client.get("/api/v1/reports/nothing").status_code == 422  # not one of the names
    assert client.get("/reports/unused.json?days=0").status_code == 422


def test_the_api_names_the_reports_the_service_builds() -> None:
    assert get_args(ReportName) == REPORTS


def test_a_cell_that_would_start_a_formula_is_neutralised_in_csv(
    client: httpx.Client, inv: Inventory, clock: FixedClock, accounts: dict[str, list[str]]
) -> None:
    add_tokens(inv, ["=CMD1"], states={"activated": ["=CMD1"]})
    clock.advance(timedelta(days=100).total_seconds())
    signed_in(client, "ada")
    rows = list(csv.reader(io.StringIO(client.get("/reports/unused.csv").text)))
    assert rows[1][0] == "'=CMD1"
    assert client.get("/api/v1/reports/unused").json()["rows"][0]["serial"] == "=CMD1"


@pytest.fixture
def settings() -> WebSettings:
    """The web tests' settings with thresholds of this module's own."""
    return WebSettings(
        secret_key=Secret(b"k" * 16 + bytes(range(16))),
        alerts=AlertSettings(low_stock=30, unactivated_days=7),
    )


def test_dashboard_alerts_follow_the_thresholds(client: httpx.Client, stocked: Inventory) -> None:
    signed_in(client, "hal")
    codes = {a["code"]: a for a in client.get("/api/v1/dashboard").json()["alerts"]}
    assert codes["failed_activations"]["serials"] == ["R012"]
    assert codes["lost"]["count"] == 1
    assert codes["low_stock"]["count"] == 16  # below 30
    assert "not_activated" not in codes  # assigned just now
    assert "entra_drift_unknown" not in codes  # no Entra configured: nothing to compare
    with stocked.uow() as uow:  # assigned eight days ago (the session would not last 8 days)
        uow.tokens.get_for_update("R011").assigned_at = stocked.now() - timedelta(days=8)
    codes = {a["code"]: a for a in client.get("/api/v1/dashboard").json()["alerts"]}
    assert codes["not_activated"]["serials"] == ["R011"]
    page = client.get("/dashboard").text
    assert "1 token(s) were assigned more than 7 days ago and are still not activated." in page
    assert "Only 16 token(s) left in stock (the alert is below 30)." in page
    assert '<a href="/reports#lost">Open the report</a>' in page
    assert "Entra is not configured" in page


def test_the_alert_settings_are_read_from_the_web_section(tmp_path: Path) -> None:
    config = Config(
        sections={
            "data": {"dir": str(tmp_path)},
            "web": {"alert_low_stock": "0", "alert_unactivated_days": "30"},
            "graph": {"tenant_id": "11111111-2222-4333-8444-555555555555"},
        }
    )
    settings = WebSettings.from_config(config)
    assert settings.alerts == AlertSettings(low_stock=0, unactivated_days=30)
    assert settings.graph_tenant_id == "11111111-2222-4333-8444-555555555555"
    defaults = WebSettings.from_config(Config(sections={"data": {"dir": str(tmp_path)}}))
    assert defaults.alerts == AlertSettings(low_stock=10, unactivated_days=14)
    bad = Config(sections={"data": {"dir": str(tmp_path)}, "web": {"alert_unactivated_days": "0"}})
    with pytest.raises(ConfigError, match=r"\[web\] alert_unactivated_days"):
        WebSettings.from_config(bad)
