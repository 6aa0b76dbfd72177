"""Deterministic normalisers for field values: dates, percentages, money, text.

A normalised value is written beside the raw one, never instead of it; a value the parser
cannot read normalises to ``None`` (a person or a later rule decides), never to a guess.

Example::

    normalize_date("Effective as of September 30, 2025")   # "2025-09-30"
    normalize_percent("Prime Rate + 12.74% to 21.74%")      # "12.74%–21.74%"
    normalize_money("$1,000.5")                             # "1000.50 USD"
    normalize_amount("3% of the transaction, with a minimum of $5")  # "3% or 5.00 USD"
    normalize_address("PO Box 981535, El Paso, TX 79998-1535")       # the text, collapsed

Each parser except ``text`` also says whether a value is of its kind at all: ``None`` for
"CFB01072" as a date or "up to" as money, which field building uses to reject such values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from fieldwise.fields.config import Normalize

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january", "enero"),
            ("feb", "february", "febrero"),
            ("mar", "march", "marzo"),
            ("apr", "april", "abril"),
            ("may", "mayo"),
            ("jun", "june", "junio"),
            ("jul", "july", "julio"),
            ("aug", "august", "agosto"),
            ("sep", "sept", "september", "septiembre"),
            ("oct", "october", "octubre"),
            ("nov", "november", "noviembre"),
            ("dec", "december", "diciembre"),
        ]
    )
    for m in names
}
#: Month names and abbreviations a date may be written with (English, Spanish).
MONTH_NAMES = frozenset(_MONTHS)
_NUMERIC = re.compile(r"\b(\d{1,4})[/.-](\d{1,2})[/.-](\d{2,4})\b")
_MONTH_FIRST = re.compile(r"\b([A-Za-z]{3,10})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
_DAY_FIRST = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:de\s+)?([A-Za-z]{3,10})\.?,?\s+(?:de\s+)?(\d{4})\b"
)


def _year(text: str) -> int:
    value = int(text)
    return value + 2000 if value < 100 and len(text) == 2 else value


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def normalize_date(text: str) -> str | None:
    """The first date in ``text`` as ``YYYY-MM-DD`` (US month/day order for numeric dates)."""
    if m := _NUMERIC.search(text):
        a, b, c = m.groups()
        if len(a) == 4:  # ISO 2025-09-30
            return _iso(int(a), int(b), int(c))
        return _iso(_year(c), int(a), int(b))
    if (m := _MONTH_FIRST.search(text)) and m.group(1).lower() in _MONTHS:
        return _iso(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2)))
    if (m := _DAY_FIRST.search(text)) and m.group(2).lower() in _MONTHS:
        return _iso(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))
    return None


_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")


def _number(text: str) -> str:
    return f"{float(text):.4f}".rstrip("0").rstrip(".")


def normalize_percent(text: str) -> str | None:
    """``17.99%``; a range ``a%–b%`` when the value states two rates; None when none."""
    found = [_number(p) for p in _PERCENT.findall(text)]
    if not found:
        return None
    if len(found) >= 2 and found[0] != found[-1]:
        return f"{found[0]}%–{found[-1]}%"
    return f"{found[0]}%"


_CURRENCIES = (
    ("$", "USD"),
    ("₹", "INR"),
    ("rs.", "INR"),
    ("rs", "INR"),
    ("`", "INR"),
    ("€", "EUR"),
    ("£", "GBP"),
)
_AMOUNT = re.compile(r"(\d{1,3}(?:,\d{2,3})+|\d+)(\.\d+)?")
_NONE_WORDS = {"none", "nil", "ninguno", "no fee", "n/a", "waived"}


def normalize_money(text: str) -> str | None:
    """``39.00 USD`` (currency from the sign: $, ₹ and the rupee font's backtick, €, £);
    "None"/"Nil"/"Ninguno" → ``0.00``."""
    lowered = text.strip().lower()
    if lowered.rstrip(".") in _NONE_WORDS:
        return "0.00"
    m = _AMOUNT.search(text)
    if not m:
        return None
    amount = float(m.group(1).replace(",", "") + (m.group(2) or ""))
    currency = next((code for sign, code in _CURRENCIES if sign in lowered), "")
    return f"{amount:.2f} {currency}".strip()


_AMOUNT_OR_RATE = re.compile(
    r"(?P<sign>[$₹€£`]|rs\.?\s?)?\s*(?P<number>\d{1,3}(?:,\d{2,3})+|\d+)(?P<fraction>\.\d+)?"
    r"\s*(?P<percent>%)?",
    re.IGNORECASE,
)


def normalize_amount(text: str) -> str | None:
    """A fee as written: money, a percentage, or both in order ("3% or 5.00 USD");
    "None"/"Nil"/"Ninguno" → ``0.00``. Bare numbers without a sign count only when nothing
    else does (so "Up to 40" still reads, "3 months" beside "$5" does not)."""
    if text.strip().lower().rstrip(".") in _NONE_WORDS:
        return "0.00"
    signed, bare = [], []
    for m in _AMOUNT_OR_RATE.finditer(text):
        number = m.group("number").replace(",", "") + (m.group("fraction") or "")
        if m.group("percent"):
            signed.append(f"{_number(number)}%")
        elif m.group("sign"):
            signed.append(normalize_money(m.group(0)) or "")
        else:
            bare.append(f"{float(number):.2f}")
    found = [a for a in dict.fromkeys(signed or bare) if a]
    return " or ".join(found) if found else None


_POSTCODE = re.compile(
    r"\b(?:\d{5}(?:-?\d{4})?|\d{3}\s?\d{3}|[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}|[A-Z]\d[A-Z]\s\d[A-Z]\d)\b"
)
#: "P.O. Box 15298" with its number, so that a postcode is looked for after it, not in it.
_PO_BOX = re.compile(
    r"(?:\bP\.?\s?O\.?\s+Box\b|\bpost\s+office\s+box\b)\s*(?:no\.?|#)?\s*[\w-]*",
    re.IGNORECASE,
)
_HOUSE_NUMBER = re.compile(r"\b\d{1,6}[A-Za-z]?\b")


def normalize_address(text: str) -> str | None:
    """A postal address, whitespace collapsed; None unless it ends in a postcode (US ZIP,
    Indian PIN, UK or Canadian) with a P.O. box or a house number before it ("28 Liberty
    Street, …", "Hauptstraße 5, 10115 Berlin"): a street fragment, a form code, a city and
    postcode alone ("Voorhees, NJ 08043", a wrapped address's last line) or a box without its
    town ("P.O. Box 15298, Wilmington, DE", a wrapped address's first line) is not one."""
    if box := _PO_BOX.search(text):
        return normalize_text(text) if _POSTCODE.search(text, box.end()) else None
    postcodes = list(_POSTCODE.finditer(text))
    if not postcodes or not _HOUSE_NUMBER.search(text[: postcodes[-1].start()]):
        return None
    return normalize_text(text)


def normalize_text(text: str) -> str:
    """Whitespace collapsed, surrounding punctuation trimmed."""
    return " ".join(text.split()).strip(" ,;:")


def text_key(text: str) -> str:
    """The text with case, spacing and surrounding punctuation ignored: what "the same words"
    means both when mentions are grouped and when values are scored against gold."""
    return " ".join(text.split()).casefold().strip(" .,;:!?")


_MARKS = re.compile(r"[®™©℠]")


def value_key(kind: Normalize | None, text: str, parsed: str | None) -> str:
    """The key under which mentions count as one value, given the text's ``parsed`` value:
    that value for typed fields ("Up to $40" and "$40." are both 40.00 USD), the postcode for
    addresses ("P.O. Box 7247, Philadelphia, PA 19170-6112" = "Philadelphia, PA 19170-6112"),
    names with their trademark signs ignored ("Delta SkyMiles® Gold Card" = "Delta SkyMiles
    Gold Card,"), and otherwise ``text_key``."""
    if kind is Normalize.address:
        if m := _POSTCODE.search(text):
            return re.sub(r"\W", "", m.group(0))
    elif kind is Normalize.name:
        return text_key(_MARKS.sub(" ", text))
    elif kind not in (None, Normalize.text, Normalize.name) and parsed is not None:
        return parsed
    return text_key(text)


NORMALIZERS: dict[Normalize, Callable[[str], str | None]] = {
    Normalize.date: normalize_date,
    Normalize.percent: normalize_percent,
    Normalize.money: normalize_money,
    Normalize.amount: normalize_amount,
    Normalize.address: normalize_address,
    Normalize.name: normalize_text,
    Normalize.text: normalize_text,
}
