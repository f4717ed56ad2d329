"""`titan serve`: the HTTP API on one port, over the warehouse everything else uses."""

import os
import sys

import uvicorn

from titan_dagster.api.app import build_app
from titan_dagster.api.auth import TOKEN_ENV, is_loopback
from titan_dagster.config import ConfigError, load_config
from titan_dagster.warehouse import default_database_url
from titan_dagster.warehouse.database import DatabaseUrlError
from titan_dagster.warehouse.read_only import read_only_warehouse


def serve(host: str, port: int) -> int:
    token = os.environ.get(TOKEN_ENV) or None
    if token is None and not is_loopback(host):
        print(f"titan serve: refusing to listen on {host} without {TOKEN_ENV}: set it to a "
              "long random secret, which clients send as 'Authorization: Bearer <token>' "
              "(/health stays open), or listen on 127.0.0.1", file=sys.stderr)
        return 2
    try:
        config = load_config()
        warehouse = read_only_warehouse(default_database_url())
    except (ConfigError, DatabaseUrlError) as error:
        print(f"titan serve: {error}", file=sys.stderr)
        return 2
    print(f"titan serve: {warehouse.display_url}, config {config.path}"
          f"{', bearer token required' if token else ''}", flush=True)
    uvicorn.run(build_app(config, warehouse, token), host=host, port=port)
    warehouse.dispose()
    return 0
