"""Points every REST endpoint of a ccxt exchange at another scheme and host."""

from urllib.parse import urlsplit, urlunsplit


def rebase_url(url: str, api_url: str) -> str:
    """https://api.binance.com/api/v3 + http://127.0.0.1:18080 -> http://127.0.0.1:18080/api/v3.
    A path on api_url is kept as a prefix, for proxies that route by path."""
    target = urlsplit(api_url)
    original = urlsplit(url)
    path = target.path.rstrip("/") + original.path
    return urlunsplit((target.scheme, target.netloc, path, original.query, original.fragment))


def rebase_api_urls(urls, api_url: str):
    """ccxt keeps endpoints as nested dicts of URL strings; rebase every string, keep the shape."""
    if isinstance(urls, dict):
        return {key: rebase_api_urls(value, api_url) for key, value in urls.items()}
    if isinstance(urls, str) and urls.startswith(("http://", "https://")):
        return rebase_url(urls, api_url)
    return urls
