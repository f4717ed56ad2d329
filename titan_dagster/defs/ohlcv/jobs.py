import dagster as dg

ohlcv_history_job = dg.define_asset_job(
    "ohlcv_history",
    selection=dg.AssetSelection.key_prefixes("ohlcv"),
    description="Backfill or refresh every configured symbol's candles for the chosen days: "
                "one run and one step per exchange, whatever the range.",
)
