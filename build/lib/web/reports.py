"""The customer's test report of one unit, as CSV and PDF, built from its public (localised) order view only."""

from __future__ import annotations

from typing import Any

from fpdf import FPDF

from web.csv_safe import csv_text


def _rows(view: dict[str, Any]) -> list[list[str]]:
    return [
        [test["station"], test["time"], m["label"], f"{m['value']:g}", m["unit"],
         "" if m["lower"] is None else f"{m['lower']:g}", "" if m["upper"] is None else f"{m['upper']:g}",
         "pass" if m["passed"] else "fail"]
        for test in view["tests"]
        for m in test["measurements"]
    ]  # fmt: skip


HEADER = ["station", "time_utc", "measurement", "value", "unit", "lower_limit", "upper_limit", "result"]


def report_csv(view: dict[str, Any]) -> str:
    """Return every measurement of the unit's tests as CSV, one row per measurement (cells formula-safe)."""
    return csv_text([["unit_code", view["unit_code"]], ["order_id", view["order_id"]], [], HEADER, *_rows(view)])


def report_pdf(view: dict[str, Any]) -> bytes:
    """Return the unit's test report as a one-table PDF."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "Test report", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    for label, value in (("Product", view["product"]), ("Unit code", view["unit_code"]), ("Order", view["order_id"])):
        pdf.cell(0, 7, _latin(f"{label}: {value}"), new_x="LMARGIN", new_y="NEXT")
    for option in view["options"]:
        pdf.cell(0, 6, _latin(f"{option['label']}: {option['value']}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    rows = _rows(view)
    if not rows:
        pdf.cell(0, 8, "No test results yet.", new_x="LMARGIN", new_y="NEXT")
        return bytes(pdf.output())
    widths = (34, 56, 22, 16, 20, 20, 14)
    pdf.set_font("Helvetica", "B", 9)
    for width, title in zip(widths, ("Station", "Measurement", "Value", "Unit", "Lower", "Upper", "Result")):
        pdf.cell(width, 7, title, border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for station, _time, label, value, unit, lower, upper, result in rows:
        for width, text in zip(widths, (station, label, value, unit, lower, upper, result)):
            pdf.cell(width, 6, _latin(text)[:40], border=1)
        pdf.ln()
    return bytes(pdf.output())


def _latin(text: str) -> str:
    """The PDF's core font is Latin-1: write what it cannot show plainly (°C stays, 中 becomes ?)."""
    return text.encode("latin-1", "replace").decode("latin-1")
