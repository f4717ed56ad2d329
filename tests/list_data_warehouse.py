"""A small warehouse for `titan list-data`, written through the project's own writer
(Warehouse.write): two crypto exchanges and Twelve Data, several symbols and timeframes, and
a series for each thing the listing counts. EXPECTED says, per series, what a reader of this
file finds by hand; the tests also count everything again in SQL."""

from datetime import date

from titan_dagster.quality.validation import Reject
from titan_dagster.warehouse import Warehouse
from titan_dagster.warehouse.batch import Batch

T0 = 1_709_251_200_000  # 2024-03-01T00:00Z, a Friday
M15, H, D = 900_000, 3_600_000, 86_400_000
DAY1, DAY2, DAY3 = date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)
SERVED = ("100", "99", "101", "100", "1")  # a row as the exchange sent it: high below low

# EUR/USD does not trade from Friday 17:00 to Sunday 17:00 New York, 22:00 UTC in March
# before daylight saving: the open times Friday 22:00 to Sunday 21:00 UTC.
EUR_USD_CLOSED = {T0 + i * H for i in range(22, 2 * 24 + 22)}

# (missing, exchange gaps, quarantined, candles, open candles, complete days) per series.
EXPECTED = {
    ("binance", "BTC/USDT", "1h"): (2, 0, 0, 70, 1, 2),
    ("binance", "BTC/USDT", "1d"): (0, 0, 0, 5, 0, 0),
    ("binance", "ETH/USDT", "1h"): (1, 4, 0, 43, 0, 1),
    ("okx", "BTC/USDT", "1h"): (1, 0, 3, 22, 0, 1),
    ("okx", "ETH/USDT", "15m"): (0, 0, 0, 91, 0, 1),
    ("okx", "SOL/USDT", "1h"): (0, 0, 0, 0, 0, 2),
    ("twelvedata", "EUR/USD", "1h"): (1, 0, 0, 35, 0, 0),
}


def candle(ts: int, volume: str | None = "1") -> tuple:
    return (ts, "100", "101", "99", "100.5", volume)


def series(step: int, count: int, skip=(), start: int = T0, volume: str | None = "1"
           ) -> list[tuple]:
    return [candle(start + i * step, volume) for i in range(count) if i not in skip]


def stock(warehouse: Warehouse) -> None:
    write = warehouse.write
    # A healable hole (slots 30 and 31) and the still-open candle after the last closed one.
    write("binance", "BTC/USDT", "1h", Batch(series(H, 72, skip={30, 31}),
                                             open_candles=[candle(T0 + 72 * H)],
                                             complete_days=[(DAY1, 24), (DAY3, 24)]))
    write("binance", "BTC/USDT", "1d", Batch(series(D, 5)))
    # Slots 10-13 confirmed absent on the exchange; slot 40 healable.
    write("binance", "ETH/USDT", "1h", Batch(series(H, 48, skip={10, 11, 12, 13, 40}),
                                             exchange_gaps=[(T0 + 10 * H, T0 + 14 * H, 4)],
                                             complete_days=[(DAY1, 20)]))
    # Slot 5 quarantined (not a hole); slot 15's reject is off the grid, so slot 15 is a
    # hole; a row without a time stands for no slot.
    write("okx", "BTC/USDT", "1h", Batch(
        series(H, 24, skip={5, 15}), complete_days=[(DAY1, 22)], run_id="list-data-test",
        rejects=[(DAY1, Reject(T0 + 5 * H, SERVED, "high_is_highest")),
                 (DAY1, Reject(T0 + 15 * H + 60_000, SERVED, "aligned")),
                 (DAY1, Reject(None, SERVED, "not_null"))]))
    # Slots 50-54 beyond the exchange's reach: not served, so not healable.
    write("okx", "ETH/USDT", "15m", Batch(series(M15, 96, skip=set(range(50, 55))),
                                          unserved=[(DAY1, T0 + 50 * M15, T0 + 55 * M15, 5)],
                                          complete_days=[(DAY1, 91)]))
    # Days before its listing: complete, without a candle.
    write("okx", "SOL/USDT", "1h", Batch(complete_days=[(DAY1, 0), (DAY2, 0)]))
    # No volume (forex); the weekend is no hole, Monday 05:00 is.
    closed = {(ts - T0) // H for ts in EUR_USD_CLOSED}
    write("twelvedata", "EUR/USD", "1h", Batch(series(H, 3 * 24 + 12, skip=closed | {77},
                                                      volume=None)))
