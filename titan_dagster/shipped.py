"""Files the project ships beside the package: in a wheel they are packaged inside it
(pyproject force-include), in a source checkout they sit at the repository root."""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped_path(name: str) -> Path:
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{name} is neither in {_PACKAGE} nor beside it")
