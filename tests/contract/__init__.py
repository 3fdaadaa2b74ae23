"""Contract checks against the vendors' own API schemas in ../shared/api-specs/.

Tests that need a schema call `spec_path(name)`, which skips the test with a clear
message when the folder is absent, rather than silently passing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SPECS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "api-specs"


def spec_path(name: str) -> Path:
    """Path of a vendor schema; skip the calling test when it is not there."""
    path = SPECS_DIR / name
    if not path.is_file():
        pytest.skip(
            f"vendor schema {name} not found in {SPECS_DIR}: contract not checked"
        )
    return path
