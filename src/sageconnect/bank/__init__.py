"""Bank statements (camt.053/054 XML, CFONB 120) read into plain ``BankLine`` records.

Readers never raise on a bad movement: they yield a ``Reject`` and go on.
"""

from __future__ import annotations

from sageconnect.bank.camt import read_camt053
from sageconnect.bank.cfonb import read_cfonb120
from sageconnect.bank.folder import detect_format, read_statements
from sageconnect.bank.lines import BankLine

__all__ = [
    "BankLine",
    "detect_format",
    "read_camt053",
    "read_cfonb120",
    "read_statements",
]
