"""Serve an exchange emulator until Ctrl-C, e.g. for the offline demo:

python -m titan_dagster.emulator --exchange okx --port 18081 --symbols BTC/USDT=2018-01-11
"""

import argparse
import contextlib
import signal
import threading

from titan_dagster.emulator import EMULATORS


def _listings(text: str) -> dict[str, str]:
    pairs = [item.partition("=") for item in text.split(",") if item]
    if any(not symbol or not listed for symbol, _, listed in pairs):
        raise argparse.ArgumentTypeError("expected SYMBOL=LISTING_DATE[,SYMBOL=LISTING_DATE...]")
    return {symbol: listed for symbol, _, listed in pairs}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m titan_dagster.emulator", description=__doc__)
    parser.add_argument("--exchange", choices=sorted(EMULATORS), default="binance")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18080, help="0 picks a free port")
    parser.add_argument("--symbols", type=_listings, default=None,
                        help="default: the exchange's own default listings")
    parser.add_argument("--max-requests-per-second", type=int, default=None)
    parser.add_argument("--fault-rate", type=float, default=0.0,
                        help="answer this fraction of candle requests with a random fault of "
                        "that exchange (rate limits, 5xx, HTML, timeouts, drops, its own error "
                        "codes, damaged pages), e.g. 0.1")
    args = parser.parse_args()
    # Ctrl-C at any moment, even while starting, stops the server and exits cleanly, also
    # when started by a process that ignores SIGINT (children inherit that).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with contextlib.suppress(KeyboardInterrupt), EMULATORS[args.exchange](
        args.symbols,
        host=args.host,
        port=args.port,
        max_requests_per_second=args.max_requests_per_second,
    ) as emulator:
        emulator.inject_at_rate(args.fault_rate)
        print(f"{args.exchange} emulator on {emulator.base_url} (Ctrl-C stops)", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
