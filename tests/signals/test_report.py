"""The HTML backtest report on hand-built candles and outcomes (no engine): its contents,
escaping, self-containment, the zero-trade and short-series cases and the size on 44k candles."""

import re
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from titan_dagster.signals.metrics import Metrics, backtest_metrics, equity_curves
from titan_dagster.signals.model import Candles, Leg, Outcome, Signals
from titan_dagster.signals.report import (
    format_metric,
    render_report,
    report_path,
    write_index,
    write_report,
)

HOUR = 3_600_000
DAY = 86_400_000
T0 = 19_676 * DAY  # 2023-11-15 00:00 UTC
WHEN = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def random_walk(n: int, seed: int = 7) -> Candles:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    open_ = np.concatenate(([100.0], close[:-1]))
    wiggle = np.abs(rng.normal(0, 0.002, n)) * close
    return Candles(ts=T0 + HOUR * np.arange(n, dtype=np.int64), open=open_,
                   high=np.maximum(open_, close) + wiggle, low=np.minimum(open_, close) - wiggle,
                   close=close, volume=np.ones(n), step=HOUR)


def make_case(n: int, n_signals: int, seed: int = 7, extra_open: bool = True):
    """Signals every n / n_signals candles, each a trade entered at the next open and closed
    after 1..20 candles; the last signal (if extra_open) is left open, one before it unfilled."""
    candles = random_walk(n, seed)
    rng = np.random.default_rng(seed + 1)
    idx = np.linspace(0, n - 25, n_signals).astype(np.int64)
    direction = np.where(rng.random(n_signals) < 0.6, 1, -1).astype(np.int8)
    ref = candles.close[idx]
    stop = ref * (1 - direction * 0.01)
    signals = Signals(index=idx, direction=direction, confidence=np.ones(n_signals), ref=ref,
                      stop=stop, tp1=ref * (1 + direction * 0.01),
                      tp2=ref * (1 + direction * 0.02))
    outcomes = []
    for i, k in enumerate(idx.tolist()):
        e = k + 1
        entry = float(candles.open[e])
        if extra_open and i == n_signals - 1:
            outcomes.append(Outcome(status="open", entry_index=e, entry_fill_ts=int(candles.ts[e]),
                                    entry_fill_price=entry))
            continue
        if extra_open and i == n_signals - 2:
            outcomes.append(Outcome(status="not_filled"))
            continue
        x = e + int(rng.integers(0, 20))
        price = float(candles.close[x])
        risk = abs(entry - float(stop[i]))
        r_gross = float(direction[i]) * (price - entry) / risk
        status = "tp2" if r_gross > 1.5 else "stopped" if r_gross < -0.5 else "expired"
        outcomes.append(Outcome(
            status=status, entry_index=e, entry_fill_ts=int(candles.ts[e]),
            entry_fill_price=entry, legs=[Leg(int(candles.ts[x]), price, 1.0,
                                              "stop" if status == "stopped" else status)],
            r_gross=r_gross, r_net=r_gross - 0.05, exit_index=x,
            ambiguous=i % 7 == 3, resolved_by="rule" if i % 7 == 3 else
            "1m" if i % 7 == 4 else None))
    metrics = backtest_metrics(candles, signals, outcomes, always_open=True)
    return candles, signals, outcomes, metrics


def write(tmp_path: Path, candles, signals, outcomes, metrics, *, strategy="breakout",
          symbol="BTC/USDT") -> Path:
    return write_report(report_path(tmp_path, strategy, "v1", symbol), strategy=strategy,
                        version="v1", symbol=symbol, timeframe="1h", candles=candles,
                        signals=signals, outcomes=outcomes, metrics=metrics, generated_at=WHEN)


@pytest.fixture(scope="module")
def case():
    return make_case(24 * 75, 30)  # 75 days of hours: 2023-11-15 .. 2024-01-28


def test_report_path_layout(tmp_path):
    assert report_path(tmp_path, "breakout", "v3", "BTC/USDT") == (
        tmp_path / "reports" / "breakout" / "v3" / "BTC_USDT.html")


def test_report_contents(tmp_path, case):
    candles, signals, outcomes, metrics = case
    path = write(tmp_path, *case)
    assert path == tmp_path / "reports" / "breakout" / "v1" / "BTC_USDT.html"
    assert path.is_file()
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert page.rstrip().endswith("</html>")
    for tag in ("<html", "<head>", "<body>", "</body>", "</head>", "<title>"):
        assert tag in page
    # header
    for text in ("breakout", "v1", "BTC/USDT", "1h", "2023-11-15 00:00", "2024-01-28 23:00",
                 "2024-03-01 12:00:00 UTC"):
        assert text in page
    # every metric's name and value
    for f in fields(Metrics):
        assert f"<code>{f.name}</code>" in page
        assert f">{format_metric(f.name, getattr(metrics, f.name))}</td>" in page
    # the charts
    assert page.count("<svg") == 3
    assert 'aria-label="equity chart"' in page
    assert 'aria-label="drawdown chart"' in page
    assert 'aria-label="R distribution"' in page
    assert page.count("<polyline") == 3  # marked, realised, drawdown
    # one row per closed trade, newest first
    closed = [i for i, o in enumerate(outcomes) if o.closed]
    assert metrics.trades == len(closed) == 28
    rows = re.findall(r'<tr class="trade" data-signal="(\d+)">', page)
    assert [int(r) for r in rows] == sorted(closed, reverse=True)
    assert "ambiguous (rule)" in page and "resolved by 1m" in page
    assert "1 open" in page and "1 not_filled" in page  # the non-trades are counted
    # the monthly table
    for month in ("2023-11", "2023-12", "2024-01"):
        assert f'data-month="{month}"' in page
    assert 'data-month="2024-02"' not in page
    assert all(f"<th>{m}</th>" for m in ("Jan", "Nov", "Dec", "Year"))
    # self-contained
    assert "http" not in page
    assert not re.search(r"\b(src|href)\s*=", page)
    assert "<script" not in page and "<link" not in page and "@import" not in page


def test_signal_and_fill_times_and_legs(tmp_path, case):
    candles, signals, outcomes, metrics = case
    page = write(tmp_path, *case).read_text(encoding="utf-8")
    i = next(i for i, o in enumerate(outcomes) if o.closed)
    k = int(signals.index[i])
    row = re.search(rf'<tr class="trade" data-signal="{i}">(.*?)</tr>', page).group(1)
    signal_close = datetime.fromtimestamp((int(candles.ts[k]) + HOUR) / 1000, UTC)
    fill = datetime.fromtimestamp(outcomes[i].entry_fill_ts / 1000, UTC)
    assert signal_close.strftime("%Y-%m-%d %H:%M") in row
    assert fill.strftime("%Y-%m-%d %H:%M") in row
    leg = outcomes[i].legs[0]
    assert re.search(rf"{leg.reason}@[0-9.]+ × 1<", row)
    assert f"{outcomes[i].r_net:+.3f}" in row and f"{outcomes[i].r_gross:+.3f}" in row


def test_monthly_returns_are_month_end_over_month_end(tmp_path, case):
    candles, signals, outcomes, metrics = case
    page = write(tmp_path, *case).read_text(encoding="utf-8")
    marked, _ = equity_curves(candles, signals, outcomes)
    months = candles.ts.astype("datetime64[ms]").astype("datetime64[M]")
    nov = marked[months == np.datetime64("2023-11")][-1]
    dec = marked[months == np.datetime64("2023-12")][-1]
    cell = re.search(r'<td data-month="2023-12" style="background:([^"]+)">([^<]+)</td>', page)
    assert cell.group(2) == f"{(dec / nov - 1) * 100:+.2f}%"
    assert ("rgba(22,163,74" if dec > nov else "rgba(220,38,38") in cell.group(1)
    first = re.search(r'<td data-month="2023-11"[^>]*>([^<]+)</td>', page).group(1)
    assert first == f"{(nov - 1) * 100:+.2f}%"  # the first month over the starting 1.0


def test_r_histogram_overflow_bins(tmp_path, case):
    candles, signals, outcomes, _ = case
    outcomes = [Outcome(**{**o.__dict__}) for o in outcomes]
    closed = [o for o in outcomes if o.closed]
    closed[0].r_net, closed[1].r_net, closed[2].r_net = -7.5, 9.0, 5.0  # 5.0 is the last bin
    metrics = backtest_metrics(candles, signals, outcomes, always_open=True)
    page = write(tmp_path, candles, signals, outcomes, metrics).read_text(encoding="utf-8")
    r = np.array([o.r_net for o in outcomes if o.closed])
    assert f"<title>r_net &lt; -3: {int((r < -3).sum())}</title>" in page
    assert f"<title>r_net &gt; 5: {int((r > 5).sum())}</title>" in page
    last = int(((r >= 4.75) & (r <= 5)).sum())
    assert f"<title>4.75 ≤ r_net ≤ 5: {last}</title>" in page
    zero = int(((r >= 0) & (r < 0.25)).sum())
    assert f"<title>0 ≤ r_net &lt; 0.25: {zero}</title>" in page
    assert ">&lt;-3R</text>" in page and ">&gt;+5R</text>" in page
    total = sum(int(c) for c in re.findall(r"<title>[^<]*: (\d+)</title>", page))
    assert total == metrics.trades


def test_hostile_text_is_escaped(tmp_path, case):
    candles, signals, outcomes, metrics = case
    path = write(tmp_path, *case, strategy="<script>alert('x')</script>", symbol='A&B/"<i>')
    page = path.read_text(encoding="utf-8")
    assert "<script" not in page and "<i>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "A&amp;B/&quot;&lt;i&gt;" in page


def test_zero_trades(tmp_path, case):
    candles, signals, _, _ = case
    outcomes = [Outcome(status="not_filled") for _ in signals.index]
    outcomes[-1] = Outcome(status="pending")
    metrics = backtest_metrics(candles, signals, outcomes, always_open=True)
    page = write(tmp_path, candles, signals, outcomes, metrics).read_text(encoding="utf-8")
    assert page.rstrip().endswith("</html>")
    assert "no closed trades" in page
    assert "<svg" not in page and '<tr class="trade"' not in page
    for f in fields(Metrics):
        assert f"<code>{f.name}</code>" in page
    assert ">—</td>" in page  # win_rate etc. are None


@pytest.mark.parametrize("n", [1, 2, 3])
def test_very_short_series(tmp_path, n):
    candles = random_walk(n)
    with_trade = n >= 2
    signals = Signals(index=np.array([0] if with_trade else [], dtype=np.int64),
                      direction=np.ones(int(with_trade), dtype=np.int8),
                      confidence=np.ones(int(with_trade)), ref=np.full(int(with_trade), 100.0),
                      stop=np.full(int(with_trade), 99.0), tp1=np.full(int(with_trade), 101.0),
                      tp2=np.full(int(with_trade), 102.0))
    outcomes = [Outcome(status="stopped", entry_index=1, entry_fill_ts=int(candles.ts[1]),
                        entry_fill_price=100.0, legs=[Leg(int(candles.ts[1]), 99.0, 1.0, "stop")],
                        r_gross=-1.0, r_net=-1.1, exit_index=1)] if with_trade else []
    metrics = backtest_metrics(candles, signals, outcomes, always_open=True)
    page = write(tmp_path, candles, signals, outcomes, metrics).read_text(encoding="utf-8")
    assert page.rstrip().endswith("</html>")
    assert "nan" not in page.lower().replace("nanum", "")
    if with_trade:
        assert page.count("<svg") == 3 and page.count('<tr class="trade"') == 1
    else:
        assert "no closed trades" in page


def test_no_candles(tmp_path):
    candles = Candles(ts=np.empty(0, np.int64), open=np.empty(0), high=np.empty(0),
                      low=np.empty(0), close=np.empty(0), volume=np.empty(0), step=HOUR)
    signals = Signals(index=np.empty(0, np.int64), direction=np.empty(0, np.int8),
                      confidence=np.empty(0))
    metrics = backtest_metrics(candles, signals, [], always_open=True)
    page = write(tmp_path, candles, signals, [], metrics).read_text(encoding="utf-8")
    assert "no candles" in page and "no closed trades" in page


def test_44k_candles_stay_small(tmp_path):
    case = make_case(44_000, 600, seed=3)
    path = write(tmp_path, *case)
    size = path.stat().st_size
    assert size < 1_500_000, size
    page = path.read_text(encoding="utf-8")
    for points in re.findall(r'<polyline points="([^"]+)"', page):
        assert len(points.split()) <= 2002
    assert page.count('<tr class="trade"') == case[3].trades == 598
    assert 'data-month="2028-11"' in page  # 44k hours: 2023-11-15 .. 2028-11-20


def test_deterministic_but_for_generated_at(case):
    candles, signals, outcomes, metrics = case
    kw = dict(strategy="s", version="v", symbol="X", timeframe="1h", candles=candles,
              signals=signals, outcomes=outcomes, metrics=metrics)
    a = render_report(**kw, generated_at=WHEN)
    assert a == render_report(**kw, generated_at=WHEN)
    b = render_report(**kw)
    strip = re.compile(r"Generated: <b>[^<]*</b>")
    assert strip.sub("", a) == strip.sub("", b)


def test_format_metric():
    assert format_metric("sharpe", None) == "—"
    assert format_metric("trades", 12) == "12"
    assert format_metric("win_rate", 0.123456) == "12.35%"
    assert format_metric("win_rate", 0.6) == "60%"
    assert format_metric("max_drawdown", 0.0) == "0%"
    assert format_metric("sharpe", 1.234567) == "1.235"
    assert format_metric("profit_factor", 0.0) == "0"
    assert format_metric("cagr", 123.456) == "12,346%"
    assert format_metric("cagr", float("inf")) == "∞%"
    assert format_metric("sqn", -0.000123456) == "-0.0001235"


def test_write_index_links_relatively(tmp_path, case):
    a = write(tmp_path, *case, symbol="BTC/USDT")
    b = write(tmp_path, *case, symbol="ETH/USDT")
    index = write_index(tmp_path / "reports", [("BTC/USDT <1h>", a), ("ETH/USDT", b)])
    assert index == tmp_path / "reports" / "index.html"
    page = index.read_text(encoding="utf-8")
    hrefs = re.findall(r'href="([^"]+)"', page)
    assert hrefs == ["breakout/v1/BTC_USDT.html", "breakout/v1/ETH_USDT.html"]
    assert all((index.parent / h).is_file() for h in hrefs)
    assert "BTC/USDT &lt;1h&gt;" in page and "http" not in page
    assert page.rstrip().endswith("</html>")
