"""Every bad parameter gets a 4xx whose body names it; an unknown signal id is a 404."""

import base64

import pytest

from tests.api.conftest import CONFIG, get, prepare, serving, write_config
from titan_dagster.config import load_config

CANDLES = {"exchange": "binance", "symbol": "BTC/USDT", "timeframe": "1h"}
NOT_A_KEY = base64.urlsafe_b64encode(b'["a", "b"]').decode()
NUL_IN_KEY = base64.urlsafe_b64encode(b'["a\\u0000", "b", "c", "d", "e", "2026-01-01"]').decode()


@pytest.mark.parametrize(("path", "params", "named"), [
    ("/candles", {**CANDLES, "exchange": "nasdaq"}, "exchange"),
    ("/candles", {**CANDLES, "symbol": "DOGE/EUR"}, "symbol"),
    ("/candles", {**CANDLES, "exchange": "kraken"}, "symbol"),  # configured, not on kraken
    ("/candles", {**CANDLES, "timeframe": "5m"}, "timeframe"),
    ("/candles", {**CANDLES, "exchange": "kraken", "symbol": "BTC/USD", "timeframe": "1d"},
     "timeframe"),
    ("/candles", {"symbol": "BTC/USDT", "timeframe": "1h"}, "exchange"),
    ("/candles", {**CANDLES, "start": "yesterday"}, "start"),
    ("/candles", {**CANDLES, "end": "2026-02-30T00:00:00Z"}, "end"),
    ("/candles", {**CANDLES, "start": "1969-12-31T23:59:59Z"}, "start"),
    ("/candles", {**CANDLES, "start": "0001-01-01T00:00:00+01:00"}, "start"),
    ("/candles", {**CANDLES, "start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
     "start"),
    ("/candles", {**CANDLES, "after": "soon"}, "after"),
    ("/candles", {**CANDLES, "include_open": "perhaps"}, "include_open"),
    ("/candles", {**CANDLES, "limit": "0"}, "limit"),
    ("/candles", {**CANDLES, "limit": "1001"}, "limit"),
    ("/candles", {**CANDLES, "limit": "ten"}, "limit"),
    ("/signals", {"strategy": "nope"}, "strategy"),
    ("/signals", {"symbol": "BTC-USDT"}, "symbol"),
    ("/signals", {"status": "won"}, "status"),
    ("/signals", {"since": "2026-01-01T25:00:00Z"}, "since"),
    ("/signals", {"version": "not a version"}, "version"),
    ("/signals", {"after": "-1"}, "after"),
    ("/signals", {"after": str(2**63)}, "after"),
    ("/signals", {"limit": "5000"}, "limit"),
    ("/signals/abc", {}, "id"),
    ("/signals/0", {}, "id"),
    ("/signals/99999999999999999999", {}, "id"),
    ("/performance", {"strategy": "nope"}, "strategy"),
    ("/performance", {"start": "2026-13-01"}, "start"),
    ("/performance", {"start": "2026-01-02", "end": "2026-01-01"}, "start"),
    ("/performance", {"after": "!!"}, "after"),
    ("/performance", {"after": "bm90IGpzb24="}, "after"),  # base64 of "not json"
    ("/performance", {"after": NOT_A_KEY}, "after"),
    ("/performance", {"after": NUL_IN_KEY}, "after"),
    ("/performance", {"limit": "-3"}, "limit"),
])
def test_a_bad_parameter_is_named(shared_api, path, params, named):
    response = get(shared_api, path, **params)
    assert response.status_code == 422, response.text
    assert [error["loc"][-1] for error in response.json()["detail"]] == [named]


def test_an_unknown_signal_is_404(shared_api):
    response = get(shared_api, f"/signals/{2**63 - 1}")
    assert response.status_code == 404
    assert response.json() == {"detail": f"no signal {2**63 - 1}"}


def test_with_no_strategy_configured_every_strategy_is_unknown(tmp_path, sqlite_url):
    without = {key: value for key, value in CONFIG.items() if key != "strategies"}
    prepare(sqlite_url)
    with serving(load_config(write_config(tmp_path, without)), sqlite_url) as base:
        refused = get(base, "/performance", strategy="btc_sma_cross")
        listed = get(base, "/signals")
    assert refused.status_code == 422
    (error,) = refused.json()["detail"]
    assert error["loc"] == ["query", "strategy"]
    assert "no strategy is configured in titan.yaml" in error["msg"]
    assert listed.json() == {"signals": [], "next": None}
