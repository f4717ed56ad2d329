"""Candles as the warehouse stores them: open time in ms and canonical decimal strings."""

from decimal import Decimal, InvalidOperation

_MAX_EXPONENT = 40

Candle = tuple[int, str, str, str, str, str]  # ts_ms, open, high, low, close, volume
VALUE_COLUMNS = ["open", "high", "low", "close", "volume"]


def canonical_decimal(value) -> str:
    """'42123.45000000' -> '42123.45': one spelling per number, so SQLite's text storage
    compares exactly and both backends return the same Decimal."""
    number = Decimal(str(value))
    # Beyond any real price or volume; formatting 1e-999999999 in full would take gigabytes.
    if not number.is_finite() or not -_MAX_EXPONENT <= number.adjusted() <= _MAX_EXPONENT:
        raise InvalidOperation(value)
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text
