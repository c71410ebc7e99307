"""Fixtures of the offline infrastructure checks: the real tree, and copies to break on purpose."""

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra_terraform"
for path in (INFRA, Path(__file__).resolve().parent):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from code_model import CodeModel  # noqa: E402


@pytest.fixture(scope="session")
def code() -> CodeModel:
    return CodeModel(ROOT)


@pytest.fixture
def infra_copy(tmp_path: Path) -> Path:
    """A copy of infra_terraform's .tf files, to mutate."""
    target = tmp_path / "infra"
    target.mkdir()
    for tf in INFRA.glob("*.tf"):
        shutil.copy(tf, target / tf.name)
    return target


@pytest.fixture
def code_copy(tmp_path: Path) -> Path:
    """A copy of the code the model reads (functions/, schemas/), to change as a developer would."""
    target = tmp_path / "code"
    for package in ("functions", "schemas"):
        shutil.copytree(ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__"))
    return target
