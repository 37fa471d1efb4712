"""Shared fixtures. Tests that read ../shared skip cleanly when it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def shared_dir() -> Path:
    if not (SHARED / "samples").is_dir():
        pytest.skip("../shared is not present")
    return SHARED


@pytest.fixture
def samples(shared_dir: Path) -> Path:
    return shared_dir / "samples"


@pytest.fixture
def seeds(shared_dir: Path) -> Path:
    if not (shared_dir / "seeds").is_dir():
        pytest.skip("../shared/seeds is not present")
    return shared_dir / "seeds"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def repo_root() -> Path:
    return REPO
