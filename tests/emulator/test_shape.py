"""A test's hand on the market: a shape (epoch ms -> log-price offset) moves a symbol's
generated path, served by every venue built on the shared candles, still a function of time
only, so candles stay continuous and every interval agrees with the 1m candles."""

import math
from decimal import Decimal

import pytest

from tests.emulator.ccxt_clients import fetch, ohlcv
from titan_dagster.emulator import BinanceEmulator, KrakenEmulator, OkxEmulator, TwelveDataEmulator
from titan_dagster.emulator.candles import (
    HOUR,
    MINUTE,
    klines,
    price,
    profile,
    shaped_price,
    turn,
)

DAY0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
PIVOT = DAY0 + 12 * HOUR
NOW = DAY0 + 2 * 24 * HOUR + 17 * MINUTE + 23_456  # inside an open candle of 1m and 1h
RISE_FALL = turn(PIVOT, 0.02, -0.02)  # +2% an hour into the pivot, -2% an hour after it


def shaped_emulator(**shape):
    return BinanceEmulator({"BTC/USDT": "2017-08-17", "ETH/USDT": "2017-08-17"},
                           clock=lambda: NOW, shape=shape)


def opens(rows: list[list]) -> list[Decimal]:
    return [Decimal(row[1]) for row in rows]


def test_a_shape_moves_the_price_by_its_offset_and_nothing_else():
    p = profile("BTC/USDT")
    for t in range(DAY0, DAY0 + 24 * HOUR, 7 * MINUTE):
        plain, moved = price(p, t), shaped_price(p, t, RISE_FALL)
        # Within the rounding to the tick (0.01 of a price of ~25).
        assert moved / plain == pytest.approx(math.exp(RISE_FALL(t)), rel=1e-3)
    assert shaped_price(p, PIVOT, RISE_FALL) == price(p, PIVOT)
    assert shaped_price(p, DAY0, lambda t: 0.0) == price(p, DAY0)


def test_unshaped_candles_are_unchanged_and_a_zero_shape_changes_nothing():
    times = range(DAY0, DAY0 + 500 * MINUTE, MINUTE)
    plain = klines("BTC/USDT", "1m", times, NOW)
    assert klines("BTC/USDT", "1m", times, NOW, None) == plain
    assert klines("BTC/USDT", "1m", times, NOW, lambda t: 0.0) == plain
    with shaped_emulator(**{"BTC/USDT": RISE_FALL}) as emu:
        # Only the shaped symbol moves.
        assert emu.candles("ETH/USDT", "1h", DAY0, DAY0 + 24 * HOUR) == klines(
            "ETH/USDT", "1h", range(DAY0, DAY0 + 24 * HOUR, HOUR), NOW)
        assert emu.candles("BTC/USDT", "1h", DAY0, DAY0 + 24 * HOUR) != klines(
            "BTC/USDT", "1h", range(DAY0, DAY0 + 24 * HOUR, HOUR), NOW)


def test_a_market_made_to_rise_then_fall_does_so_in_every_candle():
    steep = turn(PIVOT, 0.2, -0.2)  # far beyond the generated wander: every hour moves
    with shaped_emulator(**{"BTC/USDT": steep}) as emu:
        rows = emu.candles("BTC/USDT", "1h", DAY0, DAY0 + 24 * HOUR)
    closes = [Decimal(row[4]) for row in rows]
    rising, falling = closes[:12], closes[12:]
    assert rising == sorted(rising) and falling == sorted(falling, reverse=True)
    assert all(Decimal(r[4]) > Decimal(r[1]) for r in rows[:12] if r[5] != "0.00000000")
    assert all(Decimal(r[4]) < Decimal(r[1]) for r in rows[12:] if r[5] != "0.00000000")
    assert max(closes) == closes[11]  # the close at the pivot


def test_shaped_candles_are_continuous_and_1m_agrees_with_1h():
    with shaped_emulator(**{"BTC/USDT": RISE_FALL}) as emu:
        minutes = emu.candles("BTC/USDT", "1m", DAY0, DAY0 + 24 * HOUR + MINUTE)
        hours = emu.candles("BTC/USDT", "1h", DAY0, DAY0 + 24 * HOUR)
        daily = emu.candles("BTC/USDT", "1d", DAY0, DAY0 + 24 * HOUR)[0]
    traded = [(a, b) for a, b in zip(minutes, minutes[1:], strict=False)
              if a[5] != "0.00000000"]
    assert len(traded) > 1000 and all(a[4] == b[1] for a, b in traded)
    by_open = {row[0]: row for row in minutes}
    for row in hours:
        assert row[1] == by_open[row[0]][1]  # opens where its first minute opens
        if row[5] == "0.00000000":
            continue  # an hour that traded nothing is flat at its open
        # ... and closes where the next minute opens: where its last minute closed, unless
        # that one traded nothing (flat at its own open).
        assert row[4] == by_open[row[0] + HOUR][1]
        last = by_open[row[0] + HOUR - MINUTE]
        assert row[4] == last[4] or last[5] == "0.00000000"
    assert daily[1] == hours[0][1]
    assert daily[4] == by_open[DAY0 + 24 * HOUR][1]


def test_the_live_candle_closes_at_the_shaped_price_of_now():
    with shaped_emulator(**{"BTC/USDT": RISE_FALL}) as emu:
        live = fetch(emu, "BTC/USDT", "1h", limit=1)[0]
        emu.set_shape("BTC/USDT", None)  # back on the generated path
        plain = fetch(emu, "BTC/USDT", "1h", limit=1)[0]
    now_s = NOW - NOW % 1000
    assert live[0] == NOW - NOW % HOUR
    p = profile("BTC/USDT")
    assert Decimal(str(live[4])) == Decimal(shaped_price(p, now_s, RISE_FALL)) / 10**8
    assert Decimal(str(plain[4])) == Decimal(price(p, now_s)) / 10**8
    assert live[4] != plain[4]


@pytest.mark.parametrize("venue", [OkxEmulator, KrakenEmulator])
def test_other_venues_serve_the_same_shaped_path(venue):
    start = NOW - NOW % HOUR - 10 * HOUR
    with venue({"BTC/USDT": "2017-08-17"}, clock=lambda: NOW,
               shape={"BTC/USDT": RISE_FALL}) as emu:
        rows = emu.candles("BTC/USDT", "1h", start, start + 10 * HOUR)
    assert rows == klines("BTC/USDT", "1h", range(start, start + 10 * HOUR, HOUR), NOW, RISE_FALL)
    assert opens(rows) != opens(klines("BTC/USDT", "1h", range(start, start + 10 * HOUR, HOUR),
                                       NOW))


def test_a_shape_must_be_a_function_of_a_listed_symbol():
    with pytest.raises(ValueError, match="unknown symbol"):
        BinanceEmulator({"BTC/USDT": "2017-08-17"}, shape={"DOGE/USDT": RISE_FALL})
    with pytest.raises(TypeError, match="function of epoch ms"):
        BinanceEmulator({"BTC/USDT": "2017-08-17"}, shape={"BTC/USDT": 0.1})


def test_ccxt_reads_the_shaped_candles():
    with shaped_emulator(**{"BTC/USDT": RISE_FALL}) as emu:
        rows = fetch(emu, "BTC/USDT", "1h", since=DAY0, limit=24)
        assert rows == ohlcv(emu.candles("BTC/USDT", "1h", DAY0, DAY0 + 24 * HOUR))


def test_twelve_data_serves_the_shaped_path_too():
    start = DAY0 + 33 * HOUR  # Tuesday 2 January, 09:00: forex trades all day
    kwargs = {"listings": {"EUR/USD": "2010-01-01"}, "clock": lambda: NOW,
              "intraday_from": "2010-01-01"}
    with TwelveDataEmulator(**kwargs) as plain_emu, TwelveDataEmulator(
            **kwargs, shape={"EUR/USD": RISE_FALL}) as shaped_emu:
        plain = plain_emu.candles("EUR/USD", "1h", start, start + 6 * HOUR)
        shaped = shaped_emu.candles("EUR/USD", "1h", start, start + 6 * HOUR)
    assert [row[0] for row in shaped] == [row[0] for row in plain] and len(plain) == 6
    for a, b in zip(plain, shaped, strict=True):
        ratio = Decimal(b[1]) / Decimal(a[1])
        assert float(ratio) == pytest.approx(math.exp(RISE_FALL(a[0])), rel=1e-4)
    assert all(a[4] == b[1] for a, b in zip(shaped, shaped[1:], strict=False))
