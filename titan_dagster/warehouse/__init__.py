from titan_dagster.warehouse.database import DATABASE_URL_ENV, default_database_url, masked
from titan_dagster.warehouse.warehouse import TimeframeSummary, Warehouse

__all__ = ["DATABASE_URL_ENV", "TimeframeSummary", "Warehouse", "default_database_url", "masked"]
