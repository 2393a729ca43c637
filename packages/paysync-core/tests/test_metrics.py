"""Latency histograms in the Prometheus text format."""

from __future__ import annotations

import re

import pytest

from paysync_core import Metrics

LABELS = 'use_case="u",step="charge",system="paytrace",call="perform",outcome="ok"'


def _observe(metrics: Metrics, *seconds: float, system: str = "paytrace") -> None:
    for value in seconds:
        metrics.observe_call(
            use_case="u", step="charge", system=system, call="perform", outcome="ok", seconds=value
        )


def test_histogram_buckets_are_cumulative_per_step_and_system() -> None:
    metrics = Metrics(buckets=(0.1, 1.0, 2.5))
    _observe(metrics, 0.05, 0.1, 0.7, 2.0, 9.0)
    _observe(metrics, 0.2, system="fusion")
    text = metrics.render()
    assert "# TYPE paysync_call_seconds histogram" in text
    assert f'paysync_call_seconds_bucket{{{LABELS},le="0.1"}} 2' in text  # le is inclusive
    assert f'paysync_call_seconds_bucket{{{LABELS},le="1"}} 3' in text
    assert f'paysync_call_seconds_bucket{{{LABELS},le="2.5"}} 4' in text
    assert f'paysync_call_seconds_bucket{{{LABELS},le="+Inf"}} 5' in text
    assert f"paysync_call_seconds_count{{{LABELS}}} 5" in text
    assert f"paysync_call_seconds_sum{{{LABELS}}} 11.850000" in text
    fusion = LABELS.replace("paytrace", "fusion")
    assert f'paysync_call_seconds_bucket{{{fusion},le="0.1"}} 0' in text
    assert f'paysync_call_seconds_bucket{{{fusion},le="1"}} 1' in text


def test_rendered_text_is_well_formed() -> None:
    metrics = Metrics()
    _observe(metrics, 0.003)
    metrics.count_event("u", 'odd"name')
    sample = re.compile(r'^[a-z_]+(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? [0-9.e+-]+$')
    for line in metrics.render().splitlines():
        assert line.startswith("# ") or sample.match(line), line
    assert 'event="odd\\"name"' in metrics.render()


@pytest.mark.parametrize("buckets", [(), (1.0, 0.5), (0.0, 1.0), (1.0, 1.0)])
def test_bad_buckets_are_refused(buckets: tuple[float, ...]) -> None:
    with pytest.raises(ValueError, match="buckets"):
        Metrics(buckets=buckets)
