"""CSV that spreadsheets open as text: cells that would start a formula are neutralised (OWASP).

A customer's comment, an order note or an option text from a real line can begin with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return; a spreadsheet opening the export would run it
as a formula. Such a cell is written with a leading apostrophe. Numbers stay numbers. Rows end
with CRLF (RFC 4180), so a cell holding a carriage return or a line feed anywhere is quoted:
a spreadsheet takes a bare CR for the end of a row, and ``x`` CR ``=cmd`` would start a row
with a formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A cell that is one plain number ("-3.5", "+1e-3") runs nothing: a spreadsheet reads a number.
PLAIN_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def safe_cell(value: Any) -> Any:
    """Return a value safe to put in a CSV cell."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_text(rows: Iterable[Iterable[Any]]) -> str:
    """Return rows as CSV text, every text cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()
