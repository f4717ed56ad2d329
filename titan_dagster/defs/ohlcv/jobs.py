import dagster as dg


def ohlcv_history_job(partitions_def: dg.PartitionsDefinition):
    return dg.define_asset_job(
        "ohlcv_history",
        selection=dg.AssetSelection.key_prefixes("ohlcv"),
        partitions_def=partitions_def,
        description="Backfill or refresh every configured symbol's candles for the chosen days: "
                    "one run and one step per exchange, whatever the range.",
    )
