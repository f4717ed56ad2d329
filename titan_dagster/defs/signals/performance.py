"""What the performance asset shows in the UI: numbers per symbol (plotted run over run),
a table of live beside backtest, and the `strategy_not_degraded` check."""

import dagster as dg

from titan_dagster.defs.signals.markdown import cell
from titan_dagster.signals.runs import SymbolRun
from titan_dagster.timeframes import to_datetime

PLOTTED = ("trades", "win_rate", "expectancy_r", "profit_factor", "max_drawdown_r")


def performance_metadata(runs: list[SymbolRun]) -> dict:
    judged = [r for r in runs if r.performance is not None]
    metadata: dict = {"dagster/row_count": len(judged),
                      "degraded": sum(r.performance.verdict.degraded for r in judged)}
    lines = ["| symbol | as of | side | " + " | ".join(PLOTTED) + " |",
             "|" + " --- |" * (len(PLOTTED) + 3)]
    for r in judged:
        p = r.performance
        for side in ("live", "backtest"):
            values = getattr(p, side)
            lines.append(f"| {r.symbol} | {p.as_of} | {side} | "
                         + " | ".join(cell(getattr(values, f)) for f in PLOTTED) + " |")
            # Rounded: the UI prints every digit, and 4 decimals of R are plenty to read.
            metadata |= {f"{side} {name} {r.symbol}": round(getattr(values, name), 4)
                         for name in PLOTTED if getattr(values, name) is not None}
        metadata[f"verdict {r.symbol}"] = p.verdict.reason
    if judged:
        metadata["live since"] = f"{to_datetime(judged[0].live_since):%Y-%m-%d %H:%M}Z"
        metadata["performance"] = dg.MetadataValue.md("\n".join(lines))
    else:
        metadata["performance"] = "not live in this range"
    return metadata


def degraded_result(asset_key: dg.AssetKey, runs: list[SymbolRun]) -> dg.AssetCheckResult:
    judged = [r for r in runs if r.performance is not None]
    degraded = [r for r in judged if r.performance.verdict.degraded]
    return dg.AssetCheckResult(
        asset_key=asset_key, check_name="strategy_not_degraded", passed=not degraded,
        severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(f"{r.symbol}: {r.performance.verdict.reason}"
                              for r in degraded[:5])
        or ("no symbol degraded" if judged else "not live in this range"),
        metadata={"degraded_symbols": len(degraded), "judged_symbols": len(judged)})

