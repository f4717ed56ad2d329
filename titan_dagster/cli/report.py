"""`titan report S`: the latest backtest report of a strategy."""

import sys

from titan_dagster.state import state_dir


def open_report(strategy_name: str) -> int:
    """The report index of the strategy's current version, printed and opened in a browser
    where there is one."""
    import webbrowser

    from titan_dagster.config import config_path, load_config
    from titan_dagster.signals.report import report_index_path

    config = load_config(config_path())
    strategies = {strategy.name: strategy for strategy in config.strategies}
    if strategy_name not in strategies:
        print(f"titan report: no strategy {strategy_name!r} in {config.path} (configured: "
              f"{', '.join(strategies) or 'none'})", file=sys.stderr)
        return 2
    strategy = strategies[strategy_name]
    index = report_index_path(state_dir(), strategy.name, strategy.version)
    if not index.exists():
        print(f"titan report: no report yet for {strategy.name} version {strategy.version}; "
              f"materialize backtests/{strategy.name} first", file=sys.stderr)
        return 1
    print(index)
    webbrowser.open(index.as_uri())
    return 0
