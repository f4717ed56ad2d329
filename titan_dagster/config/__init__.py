from titan_dagster.config.loader import ConfigError, config_path, load_config
from titan_dagster.config.model import ExchangeSettings, TitanConfig

__all__ = ["ConfigError", "ExchangeSettings", "TitanConfig", "config_path", "load_config"]
