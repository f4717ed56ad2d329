"""Reads and validates titan.yaml so that a bad config fails when definitions load, naming
the file, the field and the value, rather than deep inside a run."""

import os
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from titan_dagster.calendars import calendar_of
from titan_dagster.config.model import ExchangeSettings, TitanConfig
from titan_dagster.config.strategies import parse_strategies
from titan_dagster.exchange.catalog import exchange_timeframes
from titan_dagster.exchange.paging import PAGING, paging_of
from titan_dagster.sources.binance_archive import BASE_URL as ARCHIVE_BASE_URL
from titan_dagster.sources.twelvedata.intervals import INTERVALS, TWELVEDATA
from titan_dagster.timeframes import timeframe_ms

CONFIG_ENV = "TITAN_CONFIG"
DEFAULT_CONFIG = "titan.yaml"

_SYMBOL = re.compile(r"[A-Z0-9]{1,20}/[A-Z0-9]{1,20}")
_TICKER = re.compile(r"[A-Z][A-Z0-9]{0,9}(?:[.-][A-Z0-9]{1,4})?")
_TWELVEDATA_FIELDS = {"symbols", "timeframes", "api_url", "api_key_env", "credits_per_minute",
                      "credits_per_day"}
# Twelve Data's free (Basic) plan, which a config that names no limits is held to.
FREE_PLAN_PER_MINUTE, FREE_PLAN_PER_DAY = 8, 800
_TOP_LEVEL = {"start", "exchanges", "quality", "strategies"}
_QUALITY_FIELDS = {"max_price_jump"}
_EXCHANGE_FIELDS = {"symbols", "timeframes", "api_url", "requests_per_second", "api_key_env",
                    "secret_env", "archives", "archive_url"}
# Exchanges that publish their candles as files too, and where (sources/binance_archive).
ARCHIVES = {"binance": ARCHIVE_BASE_URL}
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,127}")
# Fields people try for credentials; the value must not be echoed back in the error.
_SECRET_FIELDS = {"api_key", "apikey", "apiKey", "key", "secret", "password", "token"}


class _Loader(yaml.SafeLoader):
    """Leaves dates as text: PyYAML's own date parsing raises bare errors on '2020-13-01'."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class ConfigError(ValueError):
    """titan.yaml is wrong; the message names the file, the field and the bad value."""

    def __init__(self, path: Path, field: str, message: str):
        super().__init__(f"{path}: {field}: {message}")
        self.path = path
        self.field = field


def config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG).resolve()


def load_config(path: Path | None = None) -> TitanConfig:
    path = path or config_path()
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError(path, "(file)", f"cannot read the config file ({error.strerror}); "
                          f"set {CONFIG_ENV} to the path of your titan.yaml") from None
    try:
        raw = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(syntax)"
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(path, where, f"invalid YAML: {problem}") from None
    return _parse(path, raw)


def _parse(path: Path, raw: Any) -> TitanConfig:
    if not isinstance(raw, dict):
        raise ConfigError(path, "(top level)", f"expected a mapping with {sorted(_TOP_LEVEL)}, "
                          f"got {raw!r}")
    _reject_unknown(path, "(top level)", raw, _TOP_LEVEL)
    start = _parse_start(path, _required(path, "", raw, "start"))
    exchanges_raw = _required(path, "", raw, "exchanges")
    if not isinstance(exchanges_raw, dict) or not exchanges_raw:
        raise ConfigError(path, "exchanges", f"expected a mapping of exchange name to settings, "
                          f"got {exchanges_raw!r}")
    exchanges = tuple(
        _parse_exchange(path, name, settings) for name, settings in exchanges_raw.items()
    )
    quality = raw.get("quality") or {}
    if not isinstance(quality, dict):
        raise ConfigError(path, "quality", f"expected a mapping, got {quality!r}")
    _reject_unknown(path, "quality", quality, _QUALITY_FIELDS)
    jump = quality.get("max_price_jump", TitanConfig.max_price_jump)
    if isinstance(jump, bool) or not isinstance(jump, int | float) or not 0 < jump <= 10:
        raise ConfigError(path, "quality.max_price_jump", f"{jump!r} is not a fraction "
                          "between 0 and 10 (0.1 = 10%)")
    strategies = parse_strategies(path, raw.get("strategies"), exchanges,
                                  lambda field, message: ConfigError(path, field, message))
    return TitanConfig(path=path, start=start, exchanges=exchanges, max_price_jump=float(jump),
                       strategies=strategies)


def _required(path: Path, where: str, mapping: dict, key: str) -> Any:
    if mapping.get(key) is None:
        raise ConfigError(path, f"{where}.{key}" if where else key, "missing required field")
    return mapping[key]


def _reject_unknown(path: Path, where: str, mapping: dict, allowed: set[str]) -> None:
    unknown = sorted(set(map(str, mapping)) - allowed)
    if unknown:
        raise ConfigError(path, where, f"unknown field {unknown[0]!r} (allowed: {sorted(allowed)})")


def _parse_start(path: Path, value: Any) -> date:
    try:
        start = date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(path, "start", f"{value!r} is not a date (YYYY-MM-DD)") from None
    if start > datetime.now(UTC).date():
        raise ConfigError(path, "start", f"{start.isoformat()} is in the future")
    return start


def _parse_exchange(path: Path, name: Any, raw: Any) -> ExchangeSettings:
    field = f"exchanges.{name}"
    if name == TWELVEDATA:
        return _parse_twelvedata(path, field, raw)
    timeframes_supported = exchange_timeframes(str(name))
    if timeframes_supported is None:
        raise ConfigError(path, "exchanges", f"{name!r} is not an exchange ccxt supports with "
                          "OHLCV candles (use ccxt's id, e.g. binance, kraken, okx)")
    if paging_of(str(name)) is None:
        raise ConfigError(path, "exchanges", f"{name!r}: titan_dagster does not know how "
                          f"{name} pages its candles (supported: "
                          f"{', '.join(sorted([*PAGING, TWELVEDATA]))}; "
                          "README: Adding an exchange)")
    _check_fields(path, field, raw, _EXCHANGE_FIELDS, "api_key_env and secret_env")
    symbols = _parse_list(path, f"{field}.symbols", _required(path, field, raw, "symbols"))
    for i, symbol in enumerate(symbols):
        if not isinstance(symbol, str) or not _SYMBOL.fullmatch(symbol):
            raise ConfigError(path, f"{field}.symbols[{i}]", f"{symbol!r} is not a spot symbol "
                              "like BTC/USDT (upper-case BASE/QUOTE)")
    timeframes = _parse_timeframes(path, field, raw, timeframes_supported or None, name)
    api_url = _parse_api_url(path, field, raw)
    budget = raw.get("requests_per_second")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int | float)
                               or not 0 < budget <= 1000):
        raise ConfigError(path, f"{field}.requests_per_second",
                          f"{budget!r} is not a number of requests per second (0 < n <= 1000)")
    credentials = {key: _parse_env_name(path, field, raw, key)
                   for key in ("api_key_env", "secret_env")}
    return ExchangeSettings(name=str(name), symbols=tuple(symbols), timeframes=tuple(timeframes),
                            api_url=api_url,
                            requests_per_second=None if budget is None else float(budget),
                            archive_url=_parse_archive(path, field, str(name), raw, api_url),
                            **credentials)


def _parse_archive(path: Path, field: str, name: str, raw: dict,
                   api_url: str | None) -> str | None:
    """The archive base URL backfills download from, None for REST only. On by default where
    the exchange has an archive. With an api_url (a mirror, the emulator) and no
    archive_url, the archive is looked for under api_url too: a config pointed away from
    the exchange never downloads from the exchange's own host behind the user's back."""
    enabled = raw.get("archives", name in ARCHIVES)
    if not isinstance(enabled, bool):
        raise ConfigError(path, f"{field}.archives", f"{enabled!r} is not true or false")
    if enabled and name not in ARCHIVES:
        raise ConfigError(path, f"{field}.archives", f"{name} publishes no candle archive "
                          f"titan_dagster reads (archives exist for: {', '.join(ARCHIVES)})")
    archive_url = raw.get("archive_url")
    if archive_url is not None:
        _check_api_url(path, f"{field}.archive_url", archive_url)
        if not enabled:
            raise ConfigError(path, f"{field}.archive_url", "set, but archives is false")
    if not enabled:
        return None
    return archive_url or api_url or ARCHIVES[name]


def _parse_twelvedata(path: Path, field: str, raw: Any) -> ExchangeSettings:
    """Twelve Data is not a ccxt exchange: its symbols are forex and metal pairs and US stock
    tickers, its timeframes its own intervals, its budget credits per minute and per day."""
    _check_fields(path, field, raw, _TWELVEDATA_FIELDS, "api_key_env")
    symbols = _parse_list(path, f"{field}.symbols", _required(path, field, raw, "symbols"))
    for i, symbol in enumerate(symbols):
        if not isinstance(symbol, str) or not (_SYMBOL.fullmatch(symbol)
                                               or _TICKER.fullmatch(symbol)):
            raise ConfigError(path, f"{field}.symbols[{i}]", f"{symbol!r} is not a Twelve Data "
                              "symbol: forex and metal pairs as upper-case BASE/QUOTE (EUR/USD, "
                              "XAU/USD), US stocks as upper-case tickers (AAPL, BRK.B)")
    timeframes = _parse_timeframes(path, field, raw, tuple(INTERVALS), TWELVEDATA)
    for i, timeframe in enumerate(timeframes):
        for symbol in symbols:
            try:
                calendar_of(TWELVEDATA, symbol).offset(timeframe_ms(timeframe))
            except ValueError as error:
                raise ConfigError(path, f"{field}.timeframes[{i}]",
                                  f"{timeframe!r} for {symbol}: {error}") from None
    api_key_env = _parse_env_name(path, field, raw, "api_key_env")
    if api_key_env is None:
        raise ConfigError(path, f"{field}.api_key_env", "missing required field: the name of "
                          "the environment variable holding your Twelve Data API key, e.g. "
                          "TWELVEDATA_API_KEY")
    plan = {key: _parse_credits(path, field, raw, key, default)
            for key, default in (("credits_per_minute", FREE_PLAN_PER_MINUTE),
                                 ("credits_per_day", FREE_PLAN_PER_DAY))}
    if plan["credits_per_minute"] > plan["credits_per_day"]:
        raise ConfigError(path, f"{field}.credits_per_minute",
                          f"{plan['credits_per_minute']} is more than credits_per_day "
                          f"({plan['credits_per_day']})")
    return ExchangeSettings(name=TWELVEDATA, symbols=tuple(symbols),
                            timeframes=tuple(timeframes), api_url=_parse_api_url(path, field, raw),
                            api_key_env=api_key_env, **plan)


def _check_fields(path: Path, field: str, raw: Any, allowed: set[str], env_fields: str) -> None:
    if not isinstance(raw, dict):
        raise ConfigError(path, field,
                          f"expected a mapping with symbols and timeframes, got {raw!r}")
    secrets = sorted(set(map(str, raw)) & _SECRET_FIELDS)
    if secrets:
        raise ConfigError(path, f"{field}.{secrets[0]}", "credentials do not go in the config "
                          "file; put them in environment variables and name those with "
                          f"{env_fields}")
    _reject_unknown(path, field, raw, allowed)


def _parse_timeframes(path: Path, field: str, raw: dict, offered: tuple[str, ...] | None,
                      source: str) -> list:
    timeframes = _parse_list(path, f"{field}.timeframes", _required(path, field, raw, "timeframes"))
    for i, timeframe in enumerate(timeframes):
        where = f"{field}.timeframes[{i}]"
        try:
            timeframe_ms(str(timeframe))
        except ValueError as error:
            raise ConfigError(path, where, str(error)) from None
        if offered and timeframe not in offered:
            raise ConfigError(path, where, f"{timeframe!r} is not offered by {source} "
                              f"(it offers {', '.join(offered)})")
    return timeframes


def _parse_api_url(path: Path, field: str, raw: dict) -> str | None:
    api_url = raw.get("api_url")
    if api_url is not None:
        _check_api_url(path, f"{field}.api_url", api_url)
    return api_url


def _parse_env_name(path: Path, field: str, raw: dict, key: str) -> str | None:
    value = raw.get(key)
    if value is not None and not (isinstance(value, str) and _ENV_NAME.fullmatch(value)):
        raise ConfigError(path, f"{field}.{key}", f"{value!r} is not an environment "
                          "variable name like BINANCE_API_KEY (upper case, digits, _)")
    return value


def _parse_credits(path: Path, field: str, raw: dict, key: str, default: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 10_000_000:
        raise ConfigError(path, f"{field}.{key}", f"{value!r} is not a whole number of credits "
                          "(your Twelve Data plan's limit, e.g. 8 per minute and 800 per day)")
    return value


def _parse_list(path: Path, field: str, value: Any) -> list:
    if not isinstance(value, list) or not value:
        raise ConfigError(path, field, f"expected a non-empty list, got {value!r}")
    duplicates = sorted({str(v) for v in value if value.count(v) > 1})
    if duplicates:
        raise ConfigError(path, field, f"{duplicates[0]!r} is listed twice")
    return value


def _check_api_url(path: Path, field: str, value: Any) -> None:
    parts = urlsplit(value) if isinstance(value, str) else None
    if not parts or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(path, field, f"{value!r} is not an http(s) URL like http://127.0.0.1:18080")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(path, field, f"{value!r} must be scheme, host, port and optional path "
                          "prefix only (no query, fragment or credentials)")
