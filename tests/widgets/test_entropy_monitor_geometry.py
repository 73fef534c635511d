"""The Entropy Monitor lists the geometry measures and gives each a unitless plot."""
from __future__ import annotations

import pytest

pytest.importorskip("panel")

from widgets.entropy_monitor import panels_for  # noqa: E402
from workbench.tracking.representation import measure_labels  # noqa: E402


def test_panels_for_geometry_measures():
    names = ["intrinsic_dimension", "local_rank", "spectrum_slope", "condition_number", "vne"]
    panels = panels_for(names, measure_labels(names), "bits")
    by_quantity = {p["quantity"]: p for p in panels}
    assert by_quantity["local_rank"]["ylabel"] == "local rank (unitless)"
    assert by_quantity["intrinsic_dimension"]["title"] == "Intrinsic dimension"
    assert by_quantity["H(T)"]["ylabel"] == "VNE(T) [bits]"
    assert [p["estimator"] for p in panels][:2] == ["intrinsic_dimension", "local_rank"]
