"""Candles as the warehouse stores them: open time in ms and canonical decimal strings."""

from decimal import Decimal, InvalidOperation

Candle = tuple[int, str, str, str, str, str]  # ts_ms, open, high, low, close, volume
FIELDS = ("open", "high", "low", "close", "volume")


class InvalidCandle(ValueError):
    def __init__(self, symbol: str, timeframe: str, ts_ms: int, field: str, value):
        super().__init__(f"{symbol} {timeframe} candle at {ts_ms}: {field}={value!r} "
                         "is not a finite decimal number")
        self.symbol = symbol


def canonical_decimal(value) -> str:
    """'42123.45000000' -> '42123.45': one spelling per number, so SQLite's text storage
    compares exactly and both backends return the same Decimal."""
    number = Decimal(str(value))
    if not number.is_finite():
        raise InvalidOperation(value)
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def normalize(symbol: str, timeframe: str, rows: list[list]) -> list[Candle]:
    candles = []
    for row in rows:
        try:
            values = [canonical_decimal(value) for value in row[1:6]]
        except (InvalidOperation, ValueError, TypeError):
            field, value = next((f, v) for f, v in zip(FIELDS, row[1:6], strict=True)
                                if not _is_finite(v))
            raise InvalidCandle(symbol, timeframe, int(row[0]), field, value) from None
        candles.append((int(row[0]), *values))
    return candles


def _is_finite(value) -> bool:
    try:
        return Decimal(str(value)).is_finite()
    except (InvalidOperation, ValueError):
        return False
