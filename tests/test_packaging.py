"""A wheel holds the whole package: every subpackage, template and bundled spec is declared in pyproject.toml."""

from __future__ import annotations

import fnmatch
import tomllib

from .conftest import ROOT

SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_subpackage_is_declared():
    found = {".".join(path.parent.relative_to(ROOT).parts) for path in (ROOT / "archcalc").rglob("__init__.py")} | set(
        SETUPTOOLS["package-dir"]
    )
    assert set(SETUPTOOLS["packages"]) == found


def test_every_template_and_spec_is_package_data():
    for package, folder in SETUPTOOLS["package-dir"].items():
        patterns = SETUPTOOLS["package-data"][package]
        files = [path.name for path in (ROOT / folder).iterdir() if path.is_file()]
        assert files and all(any(fnmatch.fnmatch(name, p) for p in patterns) for name in files), (package, files)
