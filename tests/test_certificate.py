"""Birth certificates: signed facts anyone can check, in English and Chinese, as JSON and PDF."""

from __future__ import annotations

import copy
import io
import json
import subprocess

import pytest
from click.testing import CliRunner

from streams import events as ev
from support import TOKEN_A, TOKEN_B, catch_up, client_as
from web.verify_cli import verify


def _finish_ua(factory, events) -> None:
    factory.bus.publish_many(
        [
            ev.ComponentFitted(
                **events._env(3), unit_code="UA", line_id="ac1", station_id="brazing", component="compressor",
                supplier="Huanghai Compressor", batch="HC-2026-03-02-1", serial="HC-000001",
            ),
            ev.QualityChecked(
                **events._env(5), unit_code="UA", line_id="ac1", station_id="run_test", passed=True,
                measurements=(ev.Measurement("noise", "Indoor unit noise", "dB(A)", 36.4, None, 40.0, True),),
            ),
            events.completed(6, "UA"),
        ]
    )  # fmt: skip
    catch_up(factory)


@pytest.fixture
def finished(factory, events):
    _finish_ua(factory, events)
    return factory


def test_a_finished_unit_s_certificate_is_authentic_and_one_changed_digit_is_caught(finished, tmp_path):
    client = client_as(finished)
    response = client.get(f"/track/{TOKEN_A}/certificate.json")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    signed = response.get_json()
    facts = signed["certificate"]
    assert facts["unit_code"] == "UA" and facts["verdict"] == "passed" and facts["completed_at"]
    assert facts["shift"] == {"id": "Late", "hours": "14:00-22:00"}  # 16:06 in Zhengzhou
    assert facts["components"][0]["serial"] == "HC-000001"
    assert facts["tests"][0]["measurements"][0]["value"] == 36.4
    # The same unit gives the same document every time (nothing time-dependent is signed).
    assert client.get(f"/track/{TOKEN_A}/certificate.json").get_json() == signed

    assert client.post("/api/verify", json=signed).get_json() == {
        "authentic": True,
        "reason": "authentic: signed by this plant and unchanged",
    }
    altered = copy.deepcopy(signed)
    altered["certificate"]["tests"][0]["measurements"][0]["value"] = 36.5
    answer = client.post("/api/verify", json=altered).get_json()
    assert answer["authentic"] is False and answer["reason"].startswith("altered")
    assert client.post("/api/verify", json={"certificate": 1}).get_json()["authentic"] is False
    assert client.post("/api/verify", data="{broken", content_type="application/json").status_code == 400

    # Offline, with the published public key.
    key = tmp_path / "plant.pem"
    key.write_bytes(client.get("/.well-known/tf-signing-key").data)
    (tmp_path / "good.json").write_text(json.dumps(signed, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "bad.json").write_text(json.dumps(altered, ensure_ascii=False), encoding="utf-8")
    good = CliRunner().invoke(verify, [str(tmp_path / "good.json"), "--key", str(key)])
    assert good.exit_code == 0 and good.output.startswith("authentic")
    bad = CliRunner().invoke(verify, [str(tmp_path / "bad.json"), "--key", str(key)])
    assert bad.exit_code == 1 and bad.output.startswith("altered")


def test_the_verification_page_checks_a_pasted_certificate_and_the_qr_link(finished):
    client = client_as(finished)
    signed = client.get(f"/track/{TOKEN_A}/certificate.json").get_json()
    page = client.post("/verify", data={"certificate": json.dumps(signed)}).get_data(as_text=True)
    assert "Authentic: authentic" in page and "Indoor unit noise" in page
    for change in ("unit_code", "digit"):
        altered = copy.deepcopy(signed)
        if change == "unit_code":
            altered["certificate"]["unit_code"] = "UB"
        else:
            altered["certificate"]["tests"][0]["measurements"][0]["value"] = 36.5  # one digit of one measurement
        page = client.post("/verify", data={"certificate": json.dumps(altered)}).get_data(as_text=True)
        assert "Not authentic: altered" in page and "Indoor unit noise" not in page
    # An uploaded file is read like a pasted text.
    upload = {"file": (io.BytesIO(json.dumps(signed).encode()), "certificate.json")}
    assert "Authentic: authentic" in client.post("/verify", data=upload, content_type="multipart/form-data").get_data(
        as_text=True
    )
    # The QR link: the unit code and the signature; a wrong signature shows no facts.
    sig = signed["signature"]["value"]
    assert "Indoor unit noise" in client.get(f"/verify?u=UA&s={sig}").get_data(as_text=True)
    wrong = client.get(f"/verify?u=UA&s={sig[:-2]}AA").get_data(as_text=True)
    assert "Not authentic" in wrong and "Indoor unit noise" not in wrong
    assert "Not authentic" in client.get(f"/verify?u=UB&s={sig}").get_data(as_text=True)
    # Garbage in: a non-ASCII signature, JSON that is no object, no JSON at all.
    assert "Not authentic" in client.get("/verify?u=UA&s=签名").get_data(as_text=True)
    assert "Not authentic" in client.post("/verify", data={"certificate": "[1, 2]"}).get_data(as_text=True)
    assert "Not authentic" in client.post("/verify", data={"certificate": "{broken"}).get_data(as_text=True)
    assert client.post("/api/verify", json=[1, 2]).get_json()["authentic"] is False


def test_an_unfinished_unit_has_no_certificate_and_unknown_tokens_are_404(finished):
    client = client_as(finished)
    assert client.get(f"/track/{TOKEN_B}/certificate.json").status_code == 409
    assert client.get("/track/unknown-token-0123456789/certificate.json").status_code == 404
    assert client.get(f"/track/{TOKEN_A}/certificate.exe").status_code == 404


@pytest.mark.parametrize("lang, title", [("en", "Birth certificate"), ("zh", "产品出生证明")])
def test_the_pdf_embeds_a_cjk_font_and_draws_the_text_of_its_language(finished, tmp_path, lang, title):
    client = client_as(finished)
    response = client.get(f"/track/{TOKEN_A}/certificate.pdf?lang={lang}")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    path = tmp_path / f"certificate-{lang}.pdf"
    path.write_bytes(response.data)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "NotoSansCJK" in fonts and " yes " in fonts  # embedded (subset)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert title in text and "UA" in text
    if lang == "zh":  # names from the factory file in Chinese, none in English
        assert "性能运转测试" in text and "室内机噪声" in text and "Performance run test" not in text
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(path), str(tmp_path / "page")], check=True)
    assert (tmp_path / "page-1.png").stat().st_size > 1000
