"""Serve the emulator until Ctrl-C, e.g. for the offline demo:

python -m titan_dagster.emulator --port 18080 --symbols BTC/USDT=2017-08-17,ETH/USDT=2017-08-17
"""

import argparse
import contextlib
import signal
import threading

from titan_dagster.emulator import DEFAULT_LISTINGS, BinanceEmulator


def _listings(text: str) -> dict[str, str]:
    pairs = [item.partition("=") for item in text.split(",") if item]
    if any(not symbol or not listed for symbol, _, listed in pairs):
        raise argparse.ArgumentTypeError("expected SYMBOL=LISTING_DATE[,SYMBOL=LISTING_DATE...]")
    return {symbol: listed for symbol, _, listed in pairs}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m titan_dagster.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18080, help="0 picks a free port")
    parser.add_argument("--symbols", type=_listings, default=DEFAULT_LISTINGS)
    parser.add_argument("--max-requests-per-second", type=int, default=None)
    parser.add_argument("--fault-rate", type=float, default=0.0,
                        help="answer this fraction of klines requests with a random fault "
                        "(429, 418, 5xx, HTML, timeouts, drops, damaged pages), e.g. 0.1")
    args = parser.parse_args()
    # Ctrl-C at any moment, even while starting, stops the server and exits cleanly, also
    # when started by a process that ignores SIGINT (children inherit that).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with contextlib.suppress(KeyboardInterrupt), BinanceEmulator(
        args.symbols,
        host=args.host,
        port=args.port,
        max_requests_per_second=args.max_requests_per_second,
    ) as emulator:
        emulator.inject_at_rate(args.fault_rate)
        print(f"Binance emulator on {emulator.base_url}/api/v3 (Ctrl-C stops)", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
