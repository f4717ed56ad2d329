"""A self-contained HTML backtest report: one file per strategy version and symbol.

`write_report` renders the header, the metrics, the marked and realised equity curves, the
drawdown, the R distribution, the monthly returns and every closed trade into one HTML file
with inline CSS and inline SVG drawn here (no JavaScript, no network, no dependency beyond
numpy). `write_index` links a set of reports from an `index.html`; `report_path` says where a
report lives under the state directory.

The output depends only on the input, except the generated-at line (pass `generated_at` to pin
it). Every piece of text is HTML-escaped. Times are UTC.
"""

import html
import math
import os
from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import numpy as np

from titan_dagster.signals.metrics import Metrics, equity_curves
from titan_dagster.signals.model import Candles, Outcome, Signals

MAX_POINTS = 2000  # per plotted line: longer series keep the min and max of each bucket
R_BIN = 0.25
R_LO, R_HI = -3.0, 5.0
PERCENT_FIELDS = frozenset({"win_rate", "max_drawdown", "max_drawdown_closed", "total_return",
                            "cagr", "exposure"})
METRIC_GROUPS = (
    ("Trades", ("trades", "wins", "losses", "breakevens", "win_rate", "profit_factor",
                "expectancy_r", "avg_r", "sqn")),
    ("Returns", ("total_return", "cagr", "sharpe", "sortino", "calmar")),
    ("Risk", ("max_drawdown", "max_drawdown_closed", "exposure")),
)
METRIC_LABELS = {
    "trades": "Trades", "wins": "Wins", "losses": "Losses", "breakevens": "Breakevens",
    "win_rate": "Win rate", "profit_factor": "Profit factor", "expectancy_r": "Expectancy (R)",
    "avg_r": "Avg gross R", "sqn": "SQN", "max_drawdown": "Max drawdown (marked)",
    "max_drawdown_closed": "Max drawdown (closed)", "sharpe": "Sharpe", "sortino": "Sortino",
    "calmar": "Calmar", "cagr": "CAGR", "total_return": "Total return", "exposure": "Exposure",
}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
NO_TRADES = '<p class="empty">no closed trades</p>'

# chart geometry, in SVG user units (the SVG scales to the page width)
W, H = 1000, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 14, 28
BLUE, ORANGE, RED, GREEN, GREY = "#2563eb", "#ea7a12", "#dc2626", "#16a34a", "#94a3b8"

CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f4f5f7;color:#1f2937;
 font:14px/1.45 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:20px 24px 40px}
h1{font-size:22px;margin:0 0 6px}
h2{font-size:16px;margin:0 0 10px}
h3{font-size:13px;margin:0 0 6px;color:#475569;text-transform:uppercase;letter-spacing:.04em}
section{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:14px 16px;
 margin:0 0 16px}
.meta{display:flex;flex-wrap:wrap;gap:6px 22px;color:#475569;font-size:13px}
.meta b{color:#1f2937;font-weight:600}
.groups{display:flex;flex-wrap:wrap;gap:16px 28px}
.groups>div{flex:1 1 280px}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
td,th{padding:3px 8px;text-align:right;white-space:nowrap}
th{font-weight:600;color:#475569}
.metrics{width:100%}
.metrics td{border-bottom:1px solid #f1f5f9}
.metrics td:first-child{text-align:left}
.metrics code{color:#94a3b8;font-size:11px;margin-left:6px}
.metrics td.v{font-weight:600}
.pos{color:#15803d}.neg{color:#b91c1c}
.chart svg{display:block;width:100%;height:auto}
.legend{font-size:12px;color:#475569;margin:0 0 4px}
.legend i{display:inline-block;width:18px;height:0;border-top:2px solid;vertical-align:middle;
 margin:0 5px 0 12px}
.legend i.dash{border-top-style:dashed}
.monthly th,.monthly td{border:1px solid #e2e8f0;min-width:62px;font-size:12px}
.monthly td.year{font-weight:600}
.scroll{max-height:560px;overflow:auto;border:1px solid #e2e8f0;border-radius:6px}
.trades{width:100%;font-size:12px}
.trades th{position:sticky;top:0;background:#f8fafc;border-bottom:1px solid #e2e8f0}
.trades td{border-bottom:1px solid #f1f5f9}
.trades td.l{text-align:left}
.trades tbody tr:hover{background:#f8fafc}
.empty{color:#64748b;font-style:italic;margin:4px 0}
.note{color:#64748b;font-size:12px;margin:6px 0 0}
svg text{font-size:11px;fill:#475569}
"""


def report_path(state_dir: Path, strategy: str, version: str, symbol: str) -> Path:
    """Where the report of `strategy` `version` on `symbol` lives under the state directory."""
    return Path(state_dir) / "reports" / strategy / version / f"{symbol.replace('/', '_')}.html"


def report_index_path(state_dir: Path, strategy: str, version: str) -> Path:
    """The index of the reports of `strategy` `version` (written by `write_index`)."""
    return report_path(state_dir, strategy, version, "index").parent / "index.html"


def write_report(path: Path, *, strategy: str, version: str, symbol: str, timeframe: str,
                 candles: Candles, signals: Signals, outcomes: list[Outcome], metrics: Metrics,
                 risk_fraction: float = 0.01, generated_at: datetime | None = None) -> Path:
    """Write the HTML report of one backtest to `path` (parents created) and return `path`.

    `outcomes[i]` is signal i's outcome and `metrics` their score (`backtest_metrics` with the
    same `risk_fraction`, which the equity curves here use too). `generated_at` defaults to now.
    """
    path = Path(path)
    page = render_report(strategy=strategy, version=version, symbol=symbol,
                         timeframe=timeframe, candles=candles, signals=signals,
                         outcomes=outcomes, metrics=metrics, risk_fraction=risk_fraction,
                         generated_at=generated_at)
    _write(path, page)
    return path


def write_index(directory: Path, reports: list[tuple[str, Path]]) -> Path:
    """Write `directory/index.html` linking each (label, report path), in the given order,
    by a link relative to `directory`; return its path."""
    directory = Path(directory)
    rows = []
    for label, target in reports:
        rel = os.path.relpath(Path(target).resolve(), directory.resolve())
        href = quote(Path(rel).as_posix())
        rows.append(f'<li><a href="{_e(href)}">{_e(label)}</a></li>')
    body = "<ul class=\"index\">" + "".join(rows) + "</ul>" if rows else \
        '<p class="empty">no reports</p>'
    page = _document("Backtest reports",
                     f"<section><h1>Backtest reports</h1>{body}</section>",
                     extra_css=".index{columns:3 220px;margin:8px 0 0;padding-left:18px}"
                               ".index li{margin:2px 0}")
    out = directory / "index.html"
    _write(out, page)
    return out


def render_report(*, strategy: str, version: str, symbol: str, timeframe: str,
                  candles: Candles, signals: Signals, outcomes: list[Outcome], metrics: Metrics,
                  risk_fraction: float = 0.01, generated_at: datetime | None = None) -> str:
    """The report's HTML as a string (what `write_report` writes)."""
    generated_at = generated_at or datetime.now(UTC)
    n = len(candles)
    closed = [i for i, o in enumerate(outcomes) if o.closed]
    if n:
        marked, realised = equity_curves(candles, signals, outcomes, risk_fraction=risk_fraction)
    else:
        marked = realised = np.empty(0)
    close_ts = np.asarray(candles.ts, dtype=np.int64) + int(candles.step)

    parts = [_header(strategy, version, symbol, timeframe, candles, outcomes, closed,
                     risk_fraction, generated_at),
             _section("Metrics", _metrics_tables(metrics))]
    if not closed:
        parts.append(_section("Equity, drawdown, R distribution, monthly returns, trades",
                              NO_TRADES))
    else:
        parts.append(_section("Equity", _equity_chart(close_ts, marked, realised), "chart"))
        parts.append(_section("Drawdown (marked equity, underwater)",
                              _drawdown_chart(close_ts, marked), "chart"))
        r_net = np.array([float(outcomes[i].r_net) for i in closed])
        parts.append(_section(f"R distribution ({len(closed)} closed trades, r_net)",
                              _r_histogram(r_net), "chart"))
        parts.append(_section("Monthly returns (marked equity)",
                              _monthly_table(np.asarray(candles.ts, dtype=np.int64), marked)))
        parts.append(_section(f"Trades ({len(closed)}, newest first)",
                              _trades_table(candles, signals, outcomes, closed)))
    title = f"{strategy} {version} · {symbol} {timeframe}"
    return _document(title, "".join(parts))


# --- page pieces -----------------------------------------------------------------------------

def _header(strategy, version, symbol, timeframe, candles, outcomes, closed, risk_fraction,
            generated_at) -> str:
    n = len(candles)
    if n:
        span = (f"{_ts(int(candles.ts[0]))} → {_ts(int(candles.ts[-1]))} UTC "
                f"<span class=\"note\">(open times of the first and last candle)</span>")
    else:
        span = "no candles"
    counts: dict[str, int] = {}
    closed_set = set(closed)
    for i, o in enumerate(outcomes):
        if i not in closed_set:  # closed ones are the trades; list what else the signals became
            key = "tp1 (partly closed)" if o.status == "tp1" else o.status
            counts[key] = counts.get(key, 0) + 1
    others = ", ".join(f"{v} {_e(k)}" for k, v in sorted(counts.items()))
    signals_line = f"{len(outcomes)} signals, {len(closed)} closed trades"
    if others:
        signals_line += f" (also {others})"
    items = [("Strategy", _e(strategy)), ("Version", _e(version)), ("Symbol", _e(symbol)),
             ("Timeframe", _e(timeframe)), ("Candles", f"{n:,}"), ("Range", span),
             ("Signals", signals_line),
             ("Risk per trade", f"{_sig4(risk_fraction * 100)}% of starting equity"),
             ("Generated", _e(generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")))]
    meta = "".join(f"<span>{k}: <b>{v}</b></span>" for k, v in items)
    return (f"<section><h1>{_e(strategy)} <small>{_e(version)}</small> · {_e(symbol)} "
            f"{_e(timeframe)}</h1><div class=\"meta\">{meta}</div></section>")


def _metrics_tables(metrics: Metrics) -> str:
    names = [f.name for f in fields(Metrics)]
    groups = [(title, [n for n in members if n in names]) for title, members in METRIC_GROUPS]
    grouped = {n for _, members in groups for n in members}
    rest = [n for n in names if n not in grouped]
    if rest:
        groups.append(("Other", rest))
    out = []
    for title, members in groups:
        rows = []
        for name in members:
            value = getattr(metrics, name)
            cls = "v"
            if name in ("total_return", "cagr", "expectancy_r") and isinstance(value, float):
                cls += " pos" if value > 0 else " neg" if value < 0 else ""
            rows.append(f"<tr><td>{_e(METRIC_LABELS.get(name, name))}<code>{_e(name)}</code>"
                        f"</td><td class=\"{cls}\">{_e(format_metric(name, value))}</td></tr>")
        out.append(f"<div><h3>{_e(title)}</h3><table class=\"metrics\">{''.join(rows)}"
                   "</table></div>")
    return f"<div class=\"groups\">{''.join(out)}</div>"


def format_metric(name: str, value: int | float | None) -> str:
    """A metric as the report shows it: None as "—", ints as they are, floats to 4
    significant digits, as a percentage for the rates, drawdowns, returns and exposure."""
    if value is None:
        return "—"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    value = float(value)
    if name in PERCENT_FIELDS:
        return _sig4(value * 100) + "%"
    return _sig4(value)


def _equity_chart(close_ts, marked, realised) -> str:
    lines = [(close_ts, marked, BLUE, ""), (close_ts, realised, ORANGE, "5 4")]
    lo = min(float(np.min(marked)), float(np.min(realised)), 1.0)
    hi = max(float(np.max(marked)), float(np.max(realised)), 1.0)
    legend = ('<p class="legend"><i style="color:#2563eb"></i>marked (every close, open trades '
              'marked to market)<i class="dash" style="color:#ea7a12"></i>realised (closed '
              'trades only)</p>')
    return legend + _line_chart(lines, lo, hi, baseline=1.0, label="equity chart")


def _drawdown_chart(close_ts, marked) -> str:
    peak = np.maximum.accumulate(np.maximum(marked, 1.0))
    under = -(peak - marked) / peak  # 0 at a new high, negative below it
    lo = float(np.min(under))
    worst = int(np.argmin(under))
    note = (f'<p class="note">max drawdown {_sig4(-lo * 100)}% at {_ts(int(close_ts[worst]))} '
            f'UTC</p>' if lo < 0 else '<p class="note">equity never fell below its peak</p>')
    if lo >= 0:
        lo = -0.01
    return _line_chart([(close_ts, under, RED, "")], lo, 0.0, baseline=0.0, scale=100.0,
                       suffix="%", fill=RED, label="drawdown chart") + note


def _line_chart(lines, lo, hi, *, baseline, scale=1.0, suffix="", fill=None, label="") -> str:
    """An SVG chart of (x, y, colour, dash) lines over a shared time axis; y tick labels are
    the values times `scale` followed by `suffix`."""
    x_all = lines[0][0]
    x0, x1 = float(x_all[0]), float(x_all[-1])
    if x1 <= x0:  # one candle: give the axis some width
        x0, x1 = x0 - 1.0, x1 + 1.0
    if hi - lo <= 1e-12:
        pad = max(abs(hi) * 0.01, 1e-6)
        lo, hi = lo - pad, hi + pad
    ticks = _nice_ticks(lo, hi)
    lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])
    decimals = _decimals((ticks[1] - ticks[0]) * scale) if len(ticks) > 1 else 2
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def sx(x):
        return LEFT + (np.asarray(x, dtype=np.float64) - x0) / (x1 - x0) * pw

    def sy(y):
        return TOP + (hi - np.asarray(y, dtype=np.float64)) / (hi - lo) * ph

    out = [f'<svg viewBox="0 0 {W} {H}" role="img" aria-label="{_e(label)}">']
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="#fbfcfd" '
               'stroke="#e2e8f0"/>')
    for t in ticks:
        y = float(sy(t))
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                   'stroke="#e5e7eb"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                   f'{t * scale:.{decimals}f}{_e(suffix)}</text>')
    for x, text in _time_ticks(x0, x1):
        px = float(sx(x))
        anchor = "start" if px < LEFT + 30 else "end" if px > W - RIGHT - 30 else "middle"
        out.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{TOP}" y2="{TOP + ph + 4}" '
                   'stroke="#eef0f3"/>')
        out.append(f'<text x="{px:.1f}" y="{H - 8}" text-anchor="{anchor}">{_e(text)}</text>')
    if lo < baseline < hi or baseline in (lo, hi):
        y = float(sy(baseline))
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                   'stroke="#64748b" stroke-dasharray="2 3"/>')
    for x, y, colour, dash in lines:
        idx = _downsample(np.asarray(y, dtype=np.float64))
        px, py = sx(np.asarray(x)[idx]), sy(np.asarray(y)[idx])
        if len(idx) == 1:  # a single point: a short flat segment so it shows
            px, py = np.array([px[0] - 2, px[0] + 2]), np.array([py[0], py[0]])
        pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True))
        if fill:
            yb = float(sy(baseline))
            out.append(f'<polygon points="{px[0]:.1f},{yb:.1f} {pts} {px[-1]:.1f},{yb:.1f}" '
                       f'fill="{fill}" fill-opacity="0.18" stroke="none"/>')
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" '
                   f'stroke-width="1.4" stroke-linejoin="round"{dash_attr}/>')
    out.append("</svg>")
    return "".join(out)


def _r_histogram(r_net: np.ndarray) -> str:
    n_bins = round((R_HI - R_LO) / R_BIN)
    counts = np.zeros(n_bins + 2, dtype=np.int64)  # [0] below R_LO, [-1] above R_HI
    r_net = r_net[~np.isnan(r_net)]
    inner = np.clip(np.floor((np.clip(r_net, R_LO, R_HI) - R_LO) / R_BIN).astype(np.int64), 0,
                    n_bins - 1)
    slot = np.where(r_net < R_LO, 0, np.where(r_net > R_HI, n_bins + 1, inner + 1))
    np.add.at(counts, slot, 1)
    top = max(int(counts.max()), 1)
    ticks = [t for t in _nice_ticks(0, top) if float(t).is_integer()] or [0, top]
    ymax = max(top, ticks[-1])
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    slots = n_bins + 2
    bw = pw / slots
    out = [f'<svg viewBox="0 0 {W} {H}" role="img" aria-label="R distribution">']
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="#fbfcfd" '
               'stroke="#e2e8f0"/>')
    for t in ticks:
        y = TOP + ph - t / ymax * ph
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                   'stroke="#e5e7eb"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{int(t)}</text>')
    for s in range(slots):
        c = int(counts[s])
        x = LEFT + s * bw
        if s == 0:
            colour, what = "#991b1b", f"r_net < {_sig4(R_LO)}"
        elif s == slots - 1:
            colour, what = "#166534", f"r_net > {_sig4(R_HI)}"
        else:
            left = R_LO + (s - 1) * R_BIN
            colour = GREEN if left >= 0 else RED
            right = "≤" if s == slots - 2 else "<"  # the last bin holds R_HI itself
            what = f"{_sig4(left)} ≤ r_net {right} {_sig4(left + R_BIN)}"
        if c:
            h = c / ymax * ph
            out.append(f'<rect x="{x + 1:.1f}" y="{TOP + ph - h:.1f}" width="{bw - 2:.1f}" '
                       f'height="{h:.1f}" fill="{colour}" fill-opacity="0.8">'
                       f'<title>{_e(what)}: {c}</title></rect>')
            out.append(f'<text x="{x + bw / 2:.1f}" y="{TOP + ph - h - 3:.1f}" '
                       f'text-anchor="middle" style="font-size:10px">{c}</text>')
    for s, text in ((0, f"<{_sig4(R_LO)}R"), (slots - 1, f">+{_sig4(R_HI)}R")):
        out.append(f'<text x="{LEFT + (s + 0.5) * bw:.1f}" y="{H - 8}" text-anchor="middle" '
                   f'style="font-weight:600">{_e(text)}</text>')
    for r in range(int(R_LO), int(R_HI) + 1):
        x = LEFT + (1 + (r - R_LO) / R_BIN) * bw
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP + ph}" y2="{TOP + ph + 4}" '
                   'stroke="#94a3b8"/>')
        if R_LO < r < R_HI:  # the end labels would collide with the overflow bins' labels
            out.append(f'<text x="{x:.1f}" y="{H - 8}" text-anchor="middle">'
                       f'{f"{r:+d}R" if r else "0"}</text>')
    x0 = LEFT + (1 - R_LO / R_BIN) * bw
    out.append(f'<line x1="{x0:.1f}" x2="{x0:.1f}" y1="{TOP}" y2="{TOP + ph}" stroke="#64748b" '
               'stroke-dasharray="2 3"/>')
    out.append("</svg>")
    below, above = int(counts[0]), int(counts[-1])
    note = (f'<p class="note">bins of {_sig4(R_BIN)} R over [{_sig4(R_LO)}, {_sig4(R_HI)}] R; '
            f'{below} below and {above} above in the end bins; '
            f'mean {_sig4(float(np.mean(r_net)))} R, median {_sig4(float(np.median(r_net)))} R'
            '</p>')
    return "".join(out) + note


def _monthly_table(ts: np.ndarray, marked: np.ndarray) -> str:
    months = ts.astype("datetime64[ms]").astype("datetime64[M]").astype(np.int64)
    last = np.append(np.flatnonzero(np.diff(months) != 0), len(months) - 1)
    month_of = months[last]
    month_eq = marked[last]
    prev = np.concatenate(([1.0], month_eq[:-1]))  # the first month starts from 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        rets = month_eq / prev - 1.0
    by_month = dict(zip(month_of.tolist(), rets.tolist(), strict=True))
    years = sorted({m // 12 + 1970 for m in by_month})
    year_end = {}
    for m, eq in zip(month_of.tolist(), month_eq.tolist(), strict=True):
        year_end[m // 12 + 1970] = eq  # months ascend: the last one wins
    finite = [abs(r) for r in rets.tolist() if math.isfinite(r)]
    scale = max(finite) if finite and max(finite) > 0 else 1.0
    head = "".join(f"<th>{m}</th>" for m in MONTHS)
    rows = []
    prev_year_eq = 1.0
    for y in years:
        cells = []
        for k in range(12):
            m = (y - 1970) * 12 + k
            if m in by_month:
                r = by_month[m]
                cells.append(_return_cell(r, scale, f'data-month="{y}-{k + 1:02d}"'))
            else:
                cells.append("<td></td>")
        yr = year_end[y] / prev_year_eq - 1.0 if prev_year_eq else math.nan
        prev_year_eq = year_end[y]
        cells.append(_return_cell(yr, max(scale, abs(yr)) if math.isfinite(yr) else scale,
                                  'class="year"'))
        rows.append(f"<tr><th>{y}</th>{''.join(cells)}</tr>")
    return (f'<div style="overflow-x:auto"><table class="monthly"><thead><tr><th></th>{head}'
            f'<th>Year</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
            '<p class="note">marked equity at the last candle of each month (by open time, UTC)'
            ' over that of the month before; the first month over the starting 1.0</p>')


def _return_cell(r: float, scale: float, attrs: str) -> str:
    if not math.isfinite(r):
        return f"<td {attrs}>—</td>"
    alpha = 0.12 + 0.55 * min(1.0, abs(r) / scale) if scale > 0 else 0.12
    if r > 0:
        bg = f"rgba(22,163,74,{alpha:.2f})"
    elif r < 0:
        bg = f"rgba(220,38,38,{alpha:.2f})"
    else:
        bg = "#f8fafc"
    return f'<td {attrs} style="background:{bg}">{r * 100:+.2f}%</td>'


def _trades_table(candles: Candles, signals: Signals, outcomes: list[Outcome],
                  closed: Sequence[int]) -> str:
    ts = np.asarray(candles.ts, dtype=np.int64)
    step = int(candles.step)
    index = np.asarray(signals.index, dtype=np.int64)
    order = sorted(closed, key=lambda i: (int(index[i]), i), reverse=True)
    head = ("<tr><th>#</th><th class=\"l\">signal (close, UTC)</th><th>dir</th>"
            "<th class=\"l\">entry fill (UTC)</th><th>entry price</th><th class=\"l\">status</th>"
            "<th class=\"l\">exits (reason@price × fraction)</th><th class=\"l\">last exit "
            "(UTC)</th><th>r_gross</th><th>r_net</th><th class=\"l\">ambiguous / resolved_by"
            "</th></tr>")
    rows = []
    for i in order:
        o = outcomes[i]
        k = int(index[i])
        signal_time = _ts(int(ts[k]) + step) if 0 <= k < len(ts) else "?"
        d = int(signals.direction[i])
        direction = ('<span class="pos">▲ long</span>' if d > 0 else
                     '<span class="neg">▼ short</span>' if d < 0 else _e(str(d)))
        fill_ts = _ts(int(o.entry_fill_ts)) if o.entry_fill_ts is not None else "—"
        legs = ", ".join(f"{_e(leg.reason)}@{_price(leg.price)} × {_sig4(leg.fraction)}"
                         for leg in o.legs) or "—"
        last_exit = _ts(max(int(leg.ts) for leg in o.legs)) if o.legs else "—"
        flag = "ambiguous" if o.ambiguous else ""
        if o.resolved_by:
            flag = f"{flag} ({o.resolved_by})" if flag else f"resolved by {o.resolved_by}"
        rows.append(
            f'<tr class="trade" data-signal="{i}"><td>{i}</td><td class="l">{signal_time}</td>'
            f'<td>{direction}</td><td class="l">{fill_ts}</td>'
            f'<td>{_price(o.entry_fill_price)}</td><td class="l">{_e(o.status)}</td>'
            f'<td class="l">{legs}</td><td class="l">{last_exit}</td>'
            f'<td>{_r(o.r_gross)}</td><td class="{_sign_class(o.r_net)}">{_r(o.r_net)}</td>'
            f'<td class="l">{_e(flag)}</td></tr>')
    return (f'<div class="scroll"><table class="trades"><thead>{head}</thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


# --- helpers ---------------------------------------------------------------------------------

def _document(title: str, body: str, extra_css: str = "") -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(title)}</title><style>{CSS}{extra_css}</style></head>"
            f"<body><main>{body}</main></body></html>\n")


def _section(title: str, content: str, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<section{attr}><h2>{_e(title)}</h2>{content}</section>"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _ts(ms: int, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime(fmt)


def _sig4(x: float) -> str:
    """4 significant digits; no exponent for big numbers; inf and nan spelled out."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if abs(x) >= 9999.5:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def _price(p: float | None) -> str:
    if p is None:
        return "—"
    p = float(p)
    if not math.isfinite(p):
        return _e(str(p))
    return np.format_float_positional(p, precision=7, unique=False, fractional=False, trim="-")


def _r(r: float | None) -> str:
    return "—" if r is None else f"{float(r):+.3f}"


def _sign_class(r: float | None) -> str:
    if r is None or abs(r) <= 1e-12:
        return ""
    return "pos" if r > 0 else "neg"


def _downsample(y: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """Indices to plot: all of them for short series, else the first, the last and the min and
    max of each of max_points / 2 buckets, in order."""
    n = len(y)
    if n <= max_points:
        return np.arange(n)
    size = math.ceil(n / (max_points // 2))
    buckets = math.ceil(n / size)
    padded = np.pad(y, (0, buckets * size - n), mode="edge").reshape(buckets, size)
    base = np.arange(buckets) * size
    picks = np.concatenate(([0, n - 1], base + padded.argmin(axis=1),
                            base + padded.argmax(axis=1)))
    return np.unique(np.minimum(picks, n - 1))


_HOUR_MS = 3_600_000
_FIXED_STEPS = tuple(h * _HOUR_MS for h in (1, 2, 3, 6, 12, 24, 48, 24 * 7, 24 * 14))
_MONTH_STEPS = (1, 2, 3, 6, 12, 24, 60, 120)


def _time_ticks(x0: float, x1: float, most: int = 8) -> list[tuple[float, str]]:
    """Dated ticks (epoch ms, label) at round UTC times inside [x0, x1]: whole hours, days or
    weeks, or month / year starts, at most `most` of them; the ends when fewer than two fit."""
    ticks = _round_time_ticks(x0, x1, most)
    if len(ticks) >= 2:
        return ticks
    fmt = "%Y-%m-%d %H:%M"
    if x1 - x0 < 60_000:
        return [((x0 + x1) / 2, _ts(int((x0 + x1) / 2), fmt))]
    return [(x0, _ts(int(x0), fmt)), (x1, _ts(int(x1), fmt))]


def _round_time_ticks(x0: float, x1: float, most: int) -> list[tuple[float, str]]:
    span = x1 - x0
    for step in _FIXED_STEPS:
        if span / step <= most:
            start = math.ceil(x0 / step) * step
            fmt = "%Y-%m-%d" if step >= 24 * _HOUR_MS else "%m-%d %H:%M"
            return [(float(t), _ts(int(t), fmt))
                    for t in range(int(start), int(x1) + 1, int(step))]
    m0 = int(np.datetime64(int(math.ceil(x0)), "ms").astype("datetime64[M]").astype(np.int64))
    m1 = int(np.datetime64(int(x1), "ms").astype("datetime64[M]").astype(np.int64))
    for months in _MONTH_STEPS:
        if (m1 - m0) / months <= most or months == _MONTH_STEPS[-1]:
            break
    first = -(-m0 // months) * months  # the first multiple at or after m0 (epoch months)
    ticks = []
    for m in range(first, m1 + 1, months):
        t = float(np.datetime64(m, "M").astype("datetime64[ms]").astype(np.int64))
        if x0 <= t <= x1:
            fmt = "%Y" if months % 12 == 0 else "%Y-%m"
            ticks.append((t, _ts(int(t), fmt)))
    return ticks


def _nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten) covering [lo, hi]."""
    span = hi - lo
    if not span > 0 or not math.isfinite(span):
        return [lo] if lo == hi else [lo, hi]
    raw = span / target
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step + 1e-9) * step
    ticks = []
    k = 0
    while True:
        t = start + k * step
        ticks.append(round(t, 12) + 0.0)  # no -0.0
        if t >= hi - 1e-9 * step:
            break
        k += 1
    return ticks


def _decimals(step: float) -> int:
    """The decimals a tick step needs (2.5 times a power of ten one more than 1, 2 or 5)."""
    if not step > 0:
        return 2
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    if abs(round(step, decimals) - step) > 1e-9 * step:
        decimals += 1
    return decimals
