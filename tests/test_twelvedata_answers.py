"""How Twelve Data's answers are read, both error styles included (pure functions)."""

import json

import pytest

from titan_dagster.exchange.errors import ExchangeAccessError, SymbolNotAvailable
from titan_dagster.sources.twelvedata.answers import (
    CreditsExhausted,
    MinuteLimit,
    NoData,
    Transient,
    earliest_ms,
    read_answer,
    rows_of,
)

NO_DATA = "No data is available on the specified dates. Try setting different start/end dates."
UNKNOWN = ("**symbol** or **figi** parameter is missing or invalid. Please provide a valid "
           "symbol according to API documentation: https://twelvedata.com/docs#reference-data")
MINUTE = ("You have run out of API credits for the current minute. 12 API credits were used, "
          "with the current limit being 8. Wait for the next minute or consider switching to "
          "a higher tier plan at https://twelvedata.com/pricing")
DAY = ("You have run out of API credits for the day. 1316 API credits were used, with the "
       "current limit being 800. Wait for the next day or consider switching to a higher "
       "tier plan at https://twelvedata.com/pricing")


def error(code: int, message: str) -> str:
    return json.dumps({"code": code, "message": message, "status": "error"})


@pytest.mark.parametrize("http_status", [200, None])  # the body's code as HTTP status, or 200
@pytest.mark.parametrize(("code", "message", "raised"), [
    (400, NO_DATA, NoData),
    (404, UNKNOWN, SymbolNotAvailable),
    (429, MINUTE, MinuteLimit),
    (429, DAY, CreditsExhausted),
    (500, "Internal error", Transient),
    (401, "**apikey** parameter is incorrect or not specified.", ExchangeAccessError),
    (403, "**symbol** WTI/USD is not available with your plan.", ExchangeAccessError),
])
def test_errors_read_the_same_in_a_200_and_as_http_status(http_status, code, message, raised):
    with pytest.raises(raised) as caught:
        read_answer(http_status or code, error(code, message), "XAU/USD 1h candles", "XAU/USD")
    if raised is SymbolNotAvailable:
        assert "twelvedata has no symbol 'XAU/USD'" in str(caught.value)
    # Rejections are final, not retried: they are not the retried kinds.
    if raised is ExchangeAccessError:
        assert not isinstance(caught.value, CreditsExhausted | SymbolNotAvailable)
        assert f"code {code}" in str(caught.value)


@pytest.mark.parametrize(("status", "text"), [
    (502, "<html><head><title>502 Bad Gateway</title></head></html>"),
    (520, "<!DOCTYPE html><title>Web server is returning an unknown error</title>"),
    (200, '{"meta": {"symbol": "EUR/USD"}, "values": [{"datetime": "2026-'),  # truncated
    (200, "[]"),
    (200, ""),
])
def test_pages_that_are_not_an_answer_are_passing_faults(status, text):
    with pytest.raises(Transient):
        read_answer(status, text, "EUR/USD 1h candles", "EUR/USD")


def test_an_ok_answer_without_values_is_a_fault_not_an_empty_window():
    with pytest.raises(Transient):
        rows_of(read_answer(200, '{"meta": {}, "status": "ok"}', "x", "EUR/USD"), daily=False)


def test_rows_are_open_times_in_utc_with_volume_only_where_served():
    payload = {"values": [
        {"datetime": "2026-08-21 13:00:00", "open": "1.1679", "high": "1.17108",
         "low": "1.16694", "close": "1.16764"},
        {"datetime": "2026-08-21 14:00:00", "open": "319.28000", "high": "320",
         "low": "319", "close": "319.5", "volume": "50505600"},
        {"datetime": "21/08/2026", "open": "1", "high": "1", "low": "1", "close": "1"},
        "junk"]}
    assert rows_of(payload, daily=False) == [
        [1_787_317_200_000, "1.1679", "1.17108", "1.16694", "1.16764", None],
        [1_787_320_800_000, "319.28000", "320", "319", "319.5", "50505600"],
        [None, "1", "1", "1", "1", None],
        [None]]


def test_a_daily_bar_is_stored_at_00_00_utc_of_its_session_date():
    payload = {"values": [{"datetime": "2026-08-22", "open": "1", "high": "1", "low": "1",
                           "close": "1"}]}
    assert rows_of(payload, daily=True)[0][0] == 1_787_356_800_000  # 2026-08-22T00:00Z


def test_earliest_bar_daily_by_its_date_intraday_by_unix_time():
    payload = {"datetime": "1980-12-12", "unix_time": 345479400}  # 14:30 UTC: the open
    assert earliest_ms(payload, daily=True) == 345_427_200_000  # 1980-12-12T00:00Z
    assert earliest_ms(payload, daily=False) == 345_479_400_000
    assert earliest_ms({"datetime": "x"}, daily=False) is None
