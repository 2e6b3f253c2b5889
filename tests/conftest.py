"""Session fixtures: real data, loaded once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """Path to a file in ../shared/data; skip (outside CI) when the folder is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI"):
            raise FileNotFoundError(f"shared data missing in CI: {path}")
        pytest.skip(f"../shared/data not present ({path}); clone beside shared/ to run")
    return path
