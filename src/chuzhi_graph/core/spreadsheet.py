"""Cells meant for spreadsheets: text that Excel or LibreOffice would run as a formula is escaped.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by a
spreadsheet as a formula (``=HYPERLINK(...)``, ``=cmd|...``: CSV injection). OWASP's rule: write
it with a leading ``'``, which the spreadsheet shows as text and hides. Numbers (``-5``, ``+1.5e3``)
are left as they are: they cannot be formulas.

>>> escape_formula('=HYPERLINK("http://x","y")'), escape_formula("-12.5"), escape_formula("楚治")
('\\'=HYPERLINK("http://x","y")', '-12.5', '楚治')
"""

from __future__ import annotations

import re

#: what a spreadsheet takes for the start of a formula (OWASP, "CSV Injection")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


def escape_formula(text: str) -> str:
    """``text`` with a leading ``'`` if a spreadsheet would read it as a formula, else unchanged."""
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text
