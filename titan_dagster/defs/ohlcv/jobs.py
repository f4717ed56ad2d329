import dagster as dg

ohlcv_history_job = dg.define_asset_job(
    "ohlcv_history",
    selection=dg.AssetSelection.key_prefixes("ohlcv"),
    description="Backfill or refresh every configured symbol's candles for the chosen days: "
                "one run, whatever the range, and one step per exchange, each in a process "
                "of its own so that the exchanges are fetched at once.",
    executor_def=dg.multiprocess_executor,
)
