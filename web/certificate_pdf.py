"""The birth certificate as a PDF, in the certificate's language, with a QR code to its verification.

The PDF is a rendering of the signed JSON: what it shows are the signed facts, and the QR code
leads to the public verification page (``/verify?u=<unit>&s=<signature>&lang=<language>``),
which rebuilds the certificate and compares signatures. Text is set in Noto Sans CJK (Latin and
Chinese glyphs, embedded as a subset); the PDF core fonts are Latin-1 only.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import segno
from fpdf import FPDF

# Debian's fonts-noto-cjk; face 2 of the collection is Simplified Chinese (its Latin is the same).
FONT_PATHS = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),
)
FONT_FACE = 2

LABELS = {
    "en": {
        "title": "Birth certificate", "unit_code": "Unit code", "order": "Order", "product": "Product",
        "made": "Made at", "completed": "Completed", "verdict": "Verdict", "options": "Configuration",
        "journey": "Journey", "components": "Components", "tests": "Tests and measurements",
        "station": "Station", "entered": "In", "exited": "Out", "visits": "Visits", "part": "Part",
        "supplier": "Supplier", "batch": "Batch", "serial": "Serial", "measurement": "Measurement",
        "value": "Value", "limits": "Limits", "result": "Result", "pass": "pass", "fail": "fail",
        "passed": "passed", "failed": "failed", "not tested": "not tested", "reworks": "Repairs", "shift": "shift",
        "verify": "Scan to verify this certificate, or upload its JSON at",
        "signature": "Signed (Ed25519), key",
    },
    "zh": {
        "title": "产品出生证明", "unit_code": "产品编码", "order": "订单", "product": "产品",
        "made": "生产于", "completed": "完工时间", "verdict": "结论", "options": "配置",
        "journey": "生产历程", "components": "关键部件", "tests": "检测与测量",
        "station": "工位", "entered": "进入", "exited": "离开", "visits": "次数", "part": "部件",
        "supplier": "供应商", "batch": "批次", "serial": "序列号", "measurement": "测量项",
        "value": "测量值", "limits": "限值", "result": "结果", "pass": "合格", "fail": "不合格",
        "passed": "合格", "failed": "不合格", "not tested": "未检测", "reworks": "返修次数", "shift": "班次",
        "verify": "扫码验证本证明，或在此上传其 JSON：",
        "signature": "已签名 (Ed25519)，密钥",
    },
}  # fmt: skip


class FontMissing(RuntimeError):
    """No CJK font is installed (Debian: fonts-noto-cjk)."""


def _font() -> Path:
    for path in FONT_PATHS:
        if path.exists():
            return path
    raise FontMissing("the certificate needs Noto Sans CJK (Debian package fonts-noto-cjk)")


def _time(iso: str | None) -> str:
    return (iso or "")[:16].replace("T", " ") + (" UTC" if iso else "")


def _shift(shift: dict[str, str] | None, t: dict[str, str]) -> str:
    """The shift by its local hours: its name in the factory file is an id, not a translated text."""
    return f" · {t['shift']} {shift['hours']}" if shift else ""


def _limits(m: dict[str, Any]) -> str:
    lower, upper = m["lower"], m["upper"]
    if lower is not None and upper is not None:
        return f"{lower:g} – {upper:g}"
    return f"≥ {lower:g}" if lower is not None else f"≤ {upper:g}" if upper is not None else ""


def certificate_pdf(signed: dict[str, Any], verify_url: str, verify_page: str) -> bytes:
    """Return the PDF of a signed certificate; its QR code holds ``verify_url``."""
    facts, signature = signed["certificate"], signed["signature"]
    t = LABELS.get(facts["language"], LABELS["en"])
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("NotoCJK", fname=str(_font()), collection_font_number=FONT_FACE)
    pdf.add_page()
    qr = io.BytesIO()
    segno.make(verify_url, error="m").save(qr, kind="png", scale=4, border=2)
    qr.seek(0)
    pdf.image(qr, x=170, y=10, w=30)
    pdf.set_font("NotoCJK", size=18)
    pdf.cell(150, 11, t["title"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("NotoCJK", size=10)
    for label, value in (
        (t["unit_code"], facts["unit_code"]),
        (t["product"], facts["product"]),
        (t["order"], facts["order_id"]),
        (t["made"], f"{facts['line']} · {facts['site']}"),
        (
            t["completed"],
            _time(facts["completed_at"]) + (f" · {t['shift']} {facts['shift']}" if facts["shift"] else ""),
        ),
        (t["reworks"], str(facts["reworks"])),
        (t["verdict"], t.get(facts["verdict"], facts["verdict"])),
    ):
        pdf.cell(150, 6, f"{label}: {value}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _heading(pdf, t["options"])
    for o in facts["options"]:
        pdf.cell(0, 5.5, f"{o['label']}: {o['value']}", new_x="LMARGIN", new_y="NEXT")
    _heading(pdf, t["journey"])
    journey = [(j["station"], _time(j["entered"]), _time(j["exited"]), str(j["visits"])) for j in facts["journey"]]
    _table(pdf, (70, 45, 45, 20), (t["station"], t["entered"], t["exited"], t["visits"]), journey)
    if facts["components"]:
        _heading(pdf, t["components"])
        _table(pdf, (45, 55, 45, 45), (t["part"], t["supplier"], t["batch"], t["serial"]),
               [(c["name"], c["supplier"], c["batch"], c["serial"]) for c in facts["components"]])  # fmt: skip
    _heading(pdf, t["tests"])
    rows = [
        (
            test["station"],
            m["label"],
            f"{m['value']:g} {m['unit']}".strip(),
            _limits(m),
            t["pass"] if m["passed"] else t["fail"],
        )
        for test in facts["tests"]
        for m in test["measurements"]
    ]
    _table(pdf, (40, 60, 35, 35, 20), (t["station"], t["measurement"], t["value"], t["limits"], t["result"]), rows)
    pdf.ln(4)
    pdf.set_font("NotoCJK", size=8)
    pdf.multi_cell(0, 4.5, f"{t['verify']} {verify_page}\n{t['signature']} {signature['key_id']}: {signature['value']}")
    return bytes(pdf.output())


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(2)
    pdf.set_font("NotoCJK", size=12)
    pdf.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("NotoCJK", size=9)


def _table(pdf: FPDF, widths: tuple[float, ...], header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    for width, title in zip(widths, header):
        pdf.cell(width, 6, title, border=1)
    pdf.ln()
    for row in rows:
        for width, text in zip(widths, row):
            pdf.cell(width, 5.5, text[:48], border=1)
        pdf.ln()
