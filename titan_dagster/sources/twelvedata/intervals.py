"""What Twelve Data is called in titan.yaml, how it pages, and its interval names."""

from titan_dagster.exchange.paging import Paging

TWELVEDATA = "twelvedata"

# The project's timeframe names -> Twelve Data's (only the 2026 interval list; not 45min or
# 8h, whose bars do not sit on a grid the calendars can place in UTC).
INTERVALS = {"1m": "1min", "5m": "5min", "15m": "15min", "30m": "30min", "1h": "1h",
             "2h": "2h", "4h": "4h", "1d": "1day"}

# /time_series with start_date and end_date answers the bars of that window, and when they are
# more than `outputsize` the newest of them: a window answer, cut at its oldest end, and never
# short of what was asked while it has more. Its first bar per interval comes from
# /earliest_timestamp.
PAGING = Paging(since="window", listing_time=True, trust_listing=True, exact_cap=True,
                open_candles=False)

# Most bars one /time_series answer holds; the cost is one credit whatever the size.
MAX_OUTPUTSIZE = 5000
