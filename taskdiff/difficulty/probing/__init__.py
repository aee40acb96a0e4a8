"""Probing: UD-derived probing suites and linear probes on precomputed layer states."""

from taskdiff.difficulty.probing.probe import (
    LinearProbe,
    ProbeResult,
    fit_probe_suite,
    split_by_sentence,
)
from taskdiff.difficulty.probing.suites import (
    PROBES,
    SENTLEN_BINS,
    Probe,
    ProbeSuite,
    build_probe_suite,
    load_sentences,
    tree_depth,
)

__all__ = [
    "LinearProbe", "ProbeResult", "fit_probe_suite", "split_by_sentence",
    "PROBES", "SENTLEN_BINS", "Probe", "ProbeSuite", "build_probe_suite", "load_sentences",
    "tree_depth",
]
