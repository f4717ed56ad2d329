from titan_dagster.warehouse.database import DATABASE_URL_ENV, default_database_url, masked
from titan_dagster.warehouse.reconnect import WarehouseUnavailable
from titan_dagster.warehouse.warehouse import TimeframeSummary, Warehouse

__all__ = ["DATABASE_URL_ENV", "TimeframeSummary", "Warehouse", "WarehouseUnavailable",
           "default_database_url", "masked"]
