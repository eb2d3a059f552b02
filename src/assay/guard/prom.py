"""Prometheus metrics in the text exposition format 0.0.4, written by hand.

Three kinds are enough for the guard: counters, gauges and histograms, each with labels;
:class:`GuardMetrics` is the set the service exports.
Writing the format directly (a few dozen lines) avoids a dependency and its global
registry, which would leak metrics between the many apps a test session creates.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Callable, Sequence

__all__ = ["CONTENT_TYPE", "Counter", "Gauge", "GuardMetrics", "Histogram", "Registry"]

#: The ``Content-Type`` of the text format.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Labels = tuple[tuple[str, str], ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: Labels, extra: Labels = ()) -> str:
    pairs = labels + extra
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs) + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


class _Metric:
    kind = ""

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> None:
        self.name = name
        self.help_text = help_text
        self.labelnames = tuple(labelnames)
        self._lock = threading.Lock()

    def _key(self, labels: dict[str, str]) -> Labels:
        if set(labels) != set(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {sorted(labels)}")
        return tuple((n, str(labels[n])) for n in self.labelnames)

    def header(self) -> list[str]:
        return [
            f"# HELP {self.name} {self.help_text.replace(chr(92), chr(92) * 2)}",
            f"# TYPE {self.name} {self.kind}",
        ]

    def samples(self) -> list[str]:
        raise NotImplementedError


class Counter(_Metric):
    """A value that only goes up (requests served, decisions made)."""

    kind = "counter"

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, labelnames)
        self._values: dict[Labels, float] = {}

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise ValueError("a counter cannot go down")
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        with self._lock:
            return self._values.get(self._key(labels), 0.0)

    def items(self) -> dict[Labels, float]:
        """Every label set's value (a copy)."""
        with self._lock:
            return dict(self._values)

    def samples(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return [f"{self.name}{_labels(k)} {_number(v)}" for k, v in items]


class Gauge(_Metric):
    """A value read when scraped (e.g. the abstention rate), from a function or ``set``."""

    kind = "gauge"

    def __init__(
        self,
        name: str,
        help_text: str,
        *,
        read: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(name, help_text)
        self._read = read
        self._value = 0.0

    def set(self, value: float) -> None:
        with self._lock:
            self._value = value

    def value(self) -> float:
        if self._read is not None:
            return self._read()
        with self._lock:
            return self._value

    def samples(self) -> list[str]:
        return [f"{self.name} {_number(self.value())}"]


class Histogram(_Metric):
    """Counts of observations per upper bound (``le``), with their sum and count."""

    kind = "histogram"

    def __init__(
        self,
        name: str,
        help_text: str,
        buckets: Sequence[float],
        labelnames: Sequence[str] = (),
    ) -> None:
        super().__init__(name, help_text, labelnames)
        self.buckets = tuple(sorted(float(b) for b in buckets))
        # labels -> (per-bucket counts, the last one for +Inf; sum)
        self._data: dict[Labels, tuple[list[int], float]] = {}

    def observe(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        index = bisect.bisect_left(self.buckets, value)
        with self._lock:
            counts, total = self._data.get(key, ([0] * (len(self.buckets) + 1), 0.0))
            counts[index] += 1
            self._data[key] = (counts, total + value)

    def count(self, **labels: str) -> int:
        with self._lock:
            data = self._data.get(self._key(labels))
            return sum(data[0]) if data else 0

    def samples(self) -> list[str]:
        with self._lock:
            items = sorted((k, (list(c), s)) for k, (c, s) in self._data.items())
        out: list[str] = []
        for key, (counts, total) in items:
            running = 0
            for bound, n in zip((*self.buckets, math.inf), counts, strict=True):
                running += n
                out.append(f"{self.name}_bucket{_labels(key, (('le', _number(bound)),))} {running}")
            out.append(f"{self.name}_sum{_labels(key)} {_number(total)}")
            out.append(f"{self.name}_count{_labels(key)} {running}")
        return out


class Registry:
    """The metrics of one app, rendered together."""

    def __init__(self) -> None:
        self._metrics: list[_Metric] = []

    def add(self, metric: _Metric) -> None:
        if any(m.name == metric.name for m in self._metrics):
            raise ValueError(f"metric {metric.name} already registered")
        self._metrics.append(metric)

    def counter(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> Counter:
        metric = Counter(name, help_text, labelnames)
        self.add(metric)
        return metric

    def gauge(self, name: str, help_text: str, *, read: Callable[[], float] | None = None) -> Gauge:
        metric = Gauge(name, help_text, read=read)
        self.add(metric)
        return metric

    def histogram(
        self, name: str, help_text: str, buckets: Sequence[float], labelnames: Sequence[str] = ()
    ) -> Histogram:
        metric = Histogram(name, help_text, buckets, labelnames)
        self.add(metric)
        return metric

    def render(self) -> str:
        """All metrics in the text format (ends with a newline, as the format requires)."""
        lines: list[str] = []
        for metric in self._metrics:
            lines.extend(metric.header())
            lines.extend(metric.samples())
        return "\n".join(lines) + "\n"


class GuardMetrics:
    """The guard service's metrics (one set per app)."""

    def __init__(self) -> None:
        self.registry = Registry()
        r = self.registry
        self.requests = r.counter(
            "assay_guard_requests_total",
            "HTTP requests by endpoint and status code.",
            ("endpoint", "code"),
        )
        self.latency = r.histogram(
            "assay_guard_request_duration_seconds",
            "HTTP request latency in seconds (whole stream for streamed answers).",
            (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            ("endpoint",),
        )
        self.decisions = r.counter(
            "assay_guard_decisions_total",
            "Guard decisions by endpoint, stage and kind.",
            ("endpoint", "stage", "decision"),
        )
        self.check_latency = r.histogram(
            "assay_guard_check_duration_seconds",
            "Time from submitting a check to its decision, queueing included, seconds.",
            (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.failures = r.counter(
            "assay_guard_fail_closed_total", "Checks failed closed, by cause.", ("cause",)
        )
        self.upstream_errors = r.counter(
            "assay_guard_upstream_errors_total", "Proxy upstream failures by kind.", ("kind",)
        )
        self.batch_size = r.histogram(
            "assay_guard_batch_size",
            "Checks per guard.check call.",
            (1, 2, 4, 8, 16, 32, 64, 128, 256),
        )
        r.gauge(
            "assay_guard_abstention_rate",
            "Share of all decisions so far that were abstain.",
            read=self.abstention_rate,
        )

    def abstention_rate(self) -> float:
        values = self.decisions.items()
        total = sum(values.values())
        abstain = sum(v for k, v in values.items() if dict(k)["decision"] == "abstain")
        return abstain / total if total else 0.0
