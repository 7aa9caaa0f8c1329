"""The clinic's pages end to end in headless Chromium (Debian's, driven by Playwright) against ``prrt serve``.

A physician signs in, creates a patient, records the tumour and an imaging
finding, enters labs with a wrong unit and sees the message at the field,
enters them correctly, evaluates eligibility, plans a course, records cycle 1,
enters the labs for cycle 2 and sees the next-cycle decision with its reasons.
A viewer sees the same patient without any form and is refused (403) when
posting one anyway.  Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ARTIFACTS = Path(
    os.environ.get("PRRT_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")
)
#: Width of an image once it has loaded (0 if it failed).
LOADED_WIDTH = (
    "img => img.complete ? img.naturalWidth : new Promise(r => { img.onload = () => r(img.naturalWidth);"
    " img.onerror = () => r(0); })"
)
PASSWORDS = {"dr.e2e": "physician pass 123", "view.e2e": "viewer pass 1234"}


def _cli(*args: str, stdin: str = "", data_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "prrt.adapters.cli.app", *args, "--data-dir", str(data_dir)],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("service")
    _cli(
        "users",
        "add",
        "dr.e2e",
        "--role",
        "physician",
        "--password-stdin",
        stdin=PASSWORDS["dr.e2e"] + "\n",
        data_dir=data_dir,
    )
    _cli(
        "users",
        "add",
        "view.e2e",
        "--role",
        "viewer",
        "--password-stdin",
        stdin=PASSWORDS["view.e2e"] + "\n",
        data_dir=data_dir,
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prrt.adapters.cli.app",
            "serve",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/sign-in", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail(f"prrt serve did not start: {proc.stdout.read() if proc.stdout else ''}")
    yield base
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Chromium (Debian package chromium) is required; scripts/test.sh installs it"
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield b
        b.close()


def _sign_in(page, base: str, user: str) -> None:
    page.goto(f"{base}/patients")
    assert page.url.endswith("/sign-in")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORDS[user])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/patients")


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"e2e_{name}.png"), full_page=True)


def test_physician_runs_the_pathway_and_a_viewer_cannot_edit(server, browser):
    base = server
    today = date.today()
    first = today - timedelta(days=56)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _sign_in(page, base, "dr.e2e")

    # create a patient: a wrong weight unit first, then right
    form = page.locator("#new-patient")
    form.locator("input[name=age_years]").fill("64")
    form.locator("input[name=weight]").fill("68 stone")
    form.locator("input[name=family_name]").fill("Testpatient")
    form.locator("button[type=submit]").click()
    assert page.locator(".field-error").first.inner_text().startswith("weight:")
    form = page.locator("#new-patient")
    form.locator("input[name=weight]").fill("68 kg")
    form.locator("input[name=height]").fill("165 cm")
    form.locator("input[name=karnofsky_percent]").fill("80")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/patients/\d+$"))
    patient_url = page.url
    assert "Testpatient" in page.inner_text("#patient-heading")  # the physician may see the name
    assert "Testpatient" not in patient_url  # never in a URL

    # tumour and one SSTR finding
    page.select_option("select[name=primary_site]", "small_intestine")
    page.fill("input[name=ki67_percent]", "8")
    page.fill("input[name=mitoses_per_2mm2]", "3")
    page.click("form[action$='/tumour'] button")
    page.fill(
        "form[action$='/imaging'] input[name=study_date]", (first - timedelta(days=20)).isoformat()
    )
    page.fill("input[name=lesion_id]", "L1")
    page.fill("input[name=site]", "liver")
    page.fill("input[name=size]", "30 mm")
    page.fill("input[name=sstr_score]", "4")
    page.click("form[action$='/imaging'] button")
    assert "L1" in page.inner_text("#tumour-imaging")

    # labs with a wrong unit: the message sits at the field, nothing is stored
    labs = page.locator("#labs-form")
    labs.locator("input[name=drawn_on]").fill((first - timedelta(days=7)).isoformat())
    labs.locator("input[name='values.platelets']").fill("228 g/L")
    labs.locator("input[name='values.haemoglobin']").fill("131 g/L")
    labs.locator("button[type=submit]").click()
    message = page.locator("#err-values\\.platelets")
    assert message.is_visible()
    assert "values.platelets" in message.inner_text()
    assert "10^9/L" in message.inner_text()
    assert page.locator("input[name='values.platelets']").get_attribute("aria-invalid") == "true"
    _shot(page, "labs_wrong_unit")
    assert "No labs recorded" in page.inner_text("#labs")

    values = {
        "haemoglobin": "131 g/L",
        "platelets": "228 10^9/L",
        "neutrophils": "3.9 10^9/L",
        "lymphocytes": "1.6 10^9/L",
        "white_cells": "6.2 10^9/L",
        "creatinine": "74 µmol/L",
        "bilirubin": "9 µmol/L",
        "albumin": "41 g/L",
        "ast": "26 U/L",
        "alt": "24 U/L",
        "fasting_glucose": "5.4 mmol/L",
    }
    labs = page.locator("#labs-form")
    labs.locator("input[name=drawn_on]").fill((first - timedelta(days=7)).isoformat())
    for key, text in values.items():
        labs.locator(f"input[name='values.{key}']").fill(text)
    labs.locator("button[type=submit]").click()
    assert "11 lab values saved" in page.inner_text(".flash")
    assert page.locator("img[alt^='Lab trends']").evaluate(LOADED_WIDTH) > 300

    # eligibility
    page.click("#evaluate")
    verdict = page.inner_text("#verdict")
    assert verdict in (
        "eligible",
        "needs multidisciplinary review",
        "not eligible",
        "indeterminate",
    )
    assert page.locator("#eligibility table tr").count() > 5  # rules with reasons and sources

    # plan and record cycle 1
    page.fill("#plan-form input[name=first_administration]", f"{first.isoformat()}T09:00+01:00")
    page.click("#plan-form button")
    assert "LUTATHERA_STANDARD" in page.inner_text("#courses")
    page.fill(
        "form[action$='/administrations'] input[name=administered_at]",
        f"{first.isoformat()}T09:05+01:00",
    )
    page.fill("form[action$='/administrations'] input[name=activity]", "7.4 GBq")
    page.click("form[action$='/administrations'] button")
    assert "7.4 GBq" in page.inner_text("#courses")

    # labs for cycle 2, then the decision
    labs = page.locator("#labs-form")
    labs.locator("input[name=drawn_on]").fill((today - timedelta(days=1)).isoformat())
    labs.locator("input[name=for_cycle]").fill("2")
    for key, text in values.items():
        labs.locator(f"input[name='values.{key}']").fill(text)
    labs.locator("button[type=submit]").click()
    page.select_option("select[name=pregnant]", "no")
    page.select_option("select[name=mds_or_aml]", "no")
    page.click("button[id^=decide-]")
    decision = page.locator(".decision").first.inner_text()
    assert "give full" in decision, decision
    assert "7.4 GBq" in decision, decision
    assert "CYC-5-FULL" in decision
    # a RECIST time point: L1 30 mm → 20 mm is −33 % (PR, RECIST 1.1: ≥ 30 % decrease)
    page.fill("#response-form input[name=assessed_on]", today.isoformat())
    page.fill("#response-form input[name='target.L1']", "20 mm")
    page.click("#response-form button")
    assert "PR" in page.inner_text("#response")
    _shot(page, "physician_patient_page")
    # the two refused forms answer 422 on purpose; nothing else may fail
    assert [e for e in errors if "422" not in e] == []
    page.close()

    # a viewer sees the patient but no form, and a forged post is refused
    viewer = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(viewer, base, "view.e2e")
    viewer.goto(patient_url)
    assert viewer.locator("form.card").count() == 0
    assert "Testpatient" not in viewer.inner_text("body")  # no identity for viewers
    csrf = viewer.locator("input[name=csrf_token]").first.get_attribute("value")
    response = viewer.request.post(
        f"{patient_url}/labs",
        form={"csrf_token": csrf, "drawn_on": today.isoformat(), "values.platelets": "200 10^9/L"},
    )
    assert response.status == 403
    _shot(viewer, "viewer_patient_page")
    viewer.close()


def test_the_api_documentation_renders_from_installed_assets(server, browser):
    """/docs shows Swagger UI from the swagger-ui-bundle package under the service's CSP
    (no CDN, no inline script): the operations of the OpenAPI document are listed."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if m.type == "error" else None)
    page.goto(f"{server}/docs")
    page.wait_for_selector(".opblock", timeout=20_000)
    assert page.locator(".opblock").count() >= 20  # one block per API operation
    assert page.get_by_text("/api/patients/{patient_id}/eligibility").first.is_visible()
    assert not [e for e in blocked if "Content Security Policy" in e]
    _shot(page, "api_docs")
    page.close()
