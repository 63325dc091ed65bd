"""Birth certificates: issued on the tracker's secret link, checked by anyone.

    GET  /track/<token>/certificate.json|pdf   the signed certificate of a finished unit (?lang=en|zh)
    GET  /verify                               the verification page: paste or upload the JSON
    POST /verify                               its form: the verdict and the signed facts
    GET  /verify?u=<unit>&s=<signature>&lang=  the PDF's QR code: rebuilt, re-signed and compared
    POST /api/verify                           JSON certificate in, {"authentic": …, "reason": …} out (web.api)
    GET  /.well-known/tf-signing-key           the plant's public key (PEM)

Checking a pasted certificate needs only the public key. The QR link carries the unit code and
the signature: the server rebuilds the certificate from the unit's events and shows its facts
only when the signature it makes is the one in the link (unit codes are not secret; signatures
cannot be guessed).
"""

from __future__ import annotations

import hmac
import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import flask

from factory.certificate import NotFinished, certificate_facts
from factory.views import localise_order
from factory.work_calendar import shift_at
from web.certificate_pdf import FontMissing, certificate_pdf
from web.hardening import attachment, error
from web.ratelimit import client_key, limiter
from web.services import services
from web.signing import Signer, load_private_pem

certificates = flask.Blueprint("certificates", __name__)
MAX_CERTIFICATE = 512 * 1024  # bytes: a certificate is a few kB
LANGS = ("en", "zh")


def signer() -> Signer:
    """Return the plant's signer (made at the first use in this process)."""
    svc = services()
    if "signer" not in svc.extras:
        svc.extras["signer"] = Signer(load_private_pem(svc.settings.data_dir, svc.settings.redis_url))
    return svc.extras["signer"]


def _lang() -> str:
    lang = flask.request.args.get("lang", "en")
    return lang if lang in LANGS else "en"


def signed_certificate(view: dict[str, Any], lang: str) -> dict[str, Any]:
    """Return the signed certificate of an order view's unit (raises NotFinished)."""
    svc = services()
    completed = datetime.fromisoformat(view["completed_at"]) if view.get("completed_at") else None
    shift = shift_at(svc.plant.open_clock(view["line"]).calendar, completed) if completed else None
    return signer().sign(certificate_facts(view, localise_order(view, svc.plant, lang), svc.plant.id, shift))


@certificates.get("/track/<token>/certificate.<kind>")
def certificate(token: str, kind: str):
    from web.api import public_order

    if kind not in ("json", "pdf"):
        return error(404, "not_found", "certificates come as .json or .pdf")
    view, failure = public_order(token)
    if failure is not None:
        return failure
    lang = _lang()
    try:
        signed = signed_certificate(view, lang)
    except NotFinished:
        return error(409, "not_finished", "the certificate is issued when the unit is finished")
    if kind == "json":
        response = flask.Response(json.dumps(signed, ensure_ascii=False, indent=1), mimetype="application/json")
    else:
        base = flask.request.host_url.rstrip("/")
        facts, signature = signed["certificate"], signed["signature"]
        link = f"{base}/verify?" + urlencode({"u": facts["unit_code"], "s": signature["value"], "lang": lang})
        try:
            body = services().run(lambda: certificate_pdf(signed, link, f"{base}/verify"))
        except FontMissing as e:
            return error(503, "font_missing", str(e))
        response = flask.Response(body, mimetype="application/pdf")
    return attachment(response, "certificate", view["unit_code"], kind)


@certificates.get("/.well-known/tf-signing-key")
def public_key():
    response = flask.Response(signer().verifier.public_pem(), mimetype="application/x-pem-file")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@certificates.route("/verify", methods=["GET", "POST"])
@limiter.limit("30/minute", key_func=client_key)
def verify_page():
    lang = _lang()
    result: dict[str, Any] | None = None
    if flask.request.method == "POST":
        upload = flask.request.files.get("file")
        text = upload.read(MAX_CERTIFICATE + 1).decode("utf-8", "replace") if upload else ""
        text = text or flask.request.form.get("certificate", "")
        try:
            document = json.loads(text) if len(text) <= MAX_CERTIFICATE else None
        except ValueError:
            document = None
        if document is None:
            result = {"authentic": False, "reason": "not JSON, or too large", "facts": None}
        else:
            authentic, reason = signer().verifier.check(document)
            result = {
                "authentic": authentic,
                "reason": reason,
                "facts": document.get("certificate") if authentic else None,
            }
    elif flask.request.args.get("u") and flask.request.args.get("s"):
        result = _check_link(flask.request.args["u"], flask.request.args["s"], lang)
    html = flask.render_template_string(PAGE, result=result, t=TEXTS[lang], lang=lang)
    response = flask.Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _check_link(unit_code: str, signature: str, lang: str) -> dict[str, Any]:
    """Rebuild the certificate of the QR link's unit and compare signatures."""
    refused = {"authentic": False, "reason": "no certificate of this plant has this signature", "facts": None}
    if len(unit_code) > 100 or len(signature) > 200:
        return refused
    view = services().queries.unit(unit_code)
    if view is None:
        return refused
    try:
        signed = signed_certificate(view, lang)
    except NotFinished:
        return refused
    if not hmac.compare_digest(signed["signature"]["value"].encode(), signature.encode()):  # any text, in constant time
        return refused
    return {
        "authentic": True,
        "reason": "authentic: signed by this plant and unchanged",
        "facts": signed["certificate"],
    }


TEXTS = {
    "en": {"title": "Verify a birth certificate", "paste": "Paste the certificate's JSON", "or": "or upload its file",
           "check": "Check", "authentic": "Authentic", "not": "Not authentic", "unit": "Unit", "product": "Product",
           "completed": "Completed", "verdict": "Verdict", "measurement": "Measurement", "value": "Value",
           "result": "Result", "key": "The plant's public key"},
    "zh": {"title": "验证产品出生证明", "paste": "粘贴证明的 JSON", "or": "或上传文件", "check": "验证",
           "authentic": "真实有效", "not": "无法验证", "unit": "产品编码", "product": "产品", "completed": "完工时间",
           "verdict": "结论", "measurement": "测量项", "value": "测量值", "result": "结果", "key": "工厂公钥"},
}  # fmt: skip

PAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ t.title }}</title><link rel="stylesheet" href="/assets/style.css"></head>
<body class="verify-page"><main>
<h1>{{ t.title }}</h1>
{% if result %}
  <p class="verdict {{ 'authentic' if result.authentic else 'altered' }}" id="verify-verdict">
    {{ t.authentic if result.authentic else t.not }}: {{ result.reason }}</p>
  {% if result.facts %}{% set f = result.facts %}
  <dl><dt>{{ t.unit }}</dt><dd>{{ f.unit_code }}</dd><dt>{{ t.product }}</dt><dd>{{ f.product }}</dd>
      <dt>{{ t.completed }}</dt><dd>{{ f.completed_at }}</dd><dt>{{ t.verdict }}</dt><dd>{{ f.verdict }}</dd></dl>
  <table><tr><th>{{ t.measurement }}</th><th>{{ t.value }}</th><th>{{ t.result }}</th></tr>
  {% for test in f.tests %}{% for m in test.measurements %}
    <tr><td>{{ m.label }}</td><td>{{ m.value }} {{ m.unit }}</td><td>{{ '✓' if m.passed else '✗' }}</td></tr>
  {% endfor %}{% endfor %}</table>
  {% endif %}
{% endif %}
<form method="post" action="/verify?lang={{ lang }}" enctype="multipart/form-data">
  <label for="certificate">{{ t.paste }}</label><br>
  <textarea id="certificate" name="certificate" rows="8" cols="60"></textarea><br>
  <label for="file">{{ t.or }}</label> <input type="file" id="file" name="file" accept="application/json,.json"><br>
  <button type="submit">{{ t.check }}</button>
</form>
<p><a href="/.well-known/tf-signing-key">{{ t.key }}</a></p>
</main></body></html>
"""
