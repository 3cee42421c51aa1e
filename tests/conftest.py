from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

# Keras (a test extra, for building the models the Keras importer is checked against) runs on torch here.
os.environ.setdefault("KERAS_BACKEND", "torch")

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"

# One spec with every kind and the awkward cases: SAME average pooling, asymmetric max pooling with
# ceil_mode, a connection table, branches, batch norm on a flat input, a frozen RBF.
EVERY_KIND = """
name: every kind
input: {channels: 4, height: 23, width: 19}
layers:
  - {kind: conv, name: stem, out_channels: 6, kernel: [3, 5], stride: [2, 1], padding: same, dilation: [1, 2]}
  - {kind: batchnorm}
  - {kind: sigmoid}
  - {kind: maxpool, kernel: 3, stride: 2, padding: [1, 0, 0, 1], ceil_mode: true}
  - {kind: avgpool, name: same_avg, kernel: 2, stride: 1, padding: same}
  - {kind: conv, name: partial, out_channels: 3, kernel: 1, connections: [[0, 5], [1, 2, 3], [4]]}
  - {kind: conv, name: grouped, out_channels: 6, kernel: 3, padding: 1, groups: 3, bias: false, inputs: same_avg}
  - {kind: concat, name: cat, inputs: [partial, grouped]}
  - {kind: lrn, size: 3, alpha: 0.001, beta: 0.5, k: 2}
  - {kind: conv, name: proj, out_channels: 9, kernel: 1, inputs: same_avg}
  - {kind: add, name: sum, inputs: [lrn1, proj]}
  - {kind: subsample, kernel: 2}
  - {kind: scaled_tanh}
  - {kind: avgpool, kernel: 2, padding: 1, ceil_mode: true}
  - {kind: adaptive_avgpool, output_size: [2, 3]}
  - {kind: tanh}
  - {kind: flatten}
  - {kind: dropout, p: 0.25}
  - {kind: linear, out_features: 12}
  - {kind: batchnorm, affine: false}
  - {kind: relu}
  - {kind: rbf, out_features: 5, trainable: false}
  - {kind: softmax}
"""

# CI runs the property tests derandomised, so a red run can be reproduced exactly.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def write_spec(tmp_path: Path):
    """Write YAML text to a spec file and return its path."""

    def write(text: str, name: str = "net.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def need_program(name: str, path: str | None = None) -> str:
    """The path of an external program; skip without it, but fail in CI, which installs them all."""
    found = path if path and os.path.exists(path) else shutil.which(name)
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{name} is missing: .ci/run installs it")
    pytest.skip(f"{name} is not installed")
