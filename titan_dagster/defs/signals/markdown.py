"""Cells of the markdown tables the signal assets show in the UI."""


def cell(value) -> str:
    if value is None:
        return "—"
    return f"{value:.4g}" if isinstance(value, float) else str(value)
