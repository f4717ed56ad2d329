"""A Warehouse whose connections cannot write, for `titan health` and the HTTP API: their
promise to change nothing is kept by the database itself, not only by the SQL they send."""

from pathlib import Path

import sqlalchemy as sa

from titan_dagster.warehouse.warehouse import Warehouse


def read_only_warehouse(url: str) -> Warehouse:
    # Asked now, answered now: a probe or a request must not wait out a reconnect budget.
    warehouse = Warehouse(url, reconnect_timeout_s=0)
    sa.event.listen(warehouse.engine, "do_connect", _read_only)
    return warehouse


def _read_only(dialect, _record, cargs: list, cparams: dict) -> None:
    if dialect.name == "postgresql":
        cparams["options"] = " ".join(
            filter(None, [cparams.get("options"), "-c default_transaction_read_only=on"]))
    elif cargs and cargs[0] not in ("", ":memory:"):
        # mode=ro also keeps a missing file from being created empty.
        cargs[0] = f"{Path(cargs[0]).resolve().as_uri()}?mode=ro"
        cparams["uri"] = True
