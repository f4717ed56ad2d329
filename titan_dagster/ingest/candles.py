"""Candles as the warehouse stores them: open time in ms and canonical decimal strings."""

import re
from decimal import Decimal, InvalidOperation

_MAX_EXPONENT = 40
# What an exchange's decimal looks like. Decimal() also reads NaN, Infinity, underscores,
# surrounding spaces and non-ASCII digits ('1_000', ' 1', '１'), which no exchange means.
_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

# ts_ms, open, high, low, close, volume (None where the source has no volume)
Candle = tuple[int, str, str, str, str, str | None]
VALUE_COLUMNS = ["open", "high", "low", "close", "volume"]


def canonical_decimal(value) -> str:
    """'42123.45000000' -> '42123.45': one spelling per number, so SQLite's text storage
    compares exactly and both backends return the same Decimal."""
    text = str(value)
    if not _DECIMAL_TEXT.fullmatch(text):
        raise InvalidOperation(value)
    number = Decimal(text)
    # Beyond any real price or volume; formatting 1e-999999999 in full would take gigabytes.
    if not -_MAX_EXPONENT <= number.adjusted() <= _MAX_EXPONENT:
        raise InvalidOperation(value)
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text
