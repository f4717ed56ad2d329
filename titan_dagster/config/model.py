"""What titan.yaml says, once validated."""

from dataclasses import dataclass
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class ExchangeSettings:
    name: str
    symbols: tuple[str, ...]
    timeframes: tuple[str, ...]
    api_url: str | None = None
    requests_per_second: float | None = None  # the budget all runs share; None: ccxt's own
    # Names of the environment variables holding the credentials, never the values: a
    # config file travels (commits, run config, the UI) where secrets must not.
    api_key_env: str | None = None
    secret_env: str | None = None
    # A metered source's plan (Twelve Data): credits all runs share per minute and per UTC day.
    credits_per_minute: int | None = None
    credits_per_day: int | None = None
    # Where closed days are downloaded from before asking the REST API (Binance's kline
    # archive, or a mirror of it); None: REST only.
    archive_url: str | None = None


@dataclass(frozen=True)
class TitanConfig:
    path: Path
    start: date
    exchanges: tuple[ExchangeSettings, ...]
    max_price_jump: float = 0.10  # an open this far from the previous close is flagged
    strategies: tuple = ()  # StrategySettings (config/strategies.py)

    def exchange(self, name: str) -> ExchangeSettings:
        for settings in self.exchanges:
            if settings.name == name:
                return settings
        raise KeyError(name)
