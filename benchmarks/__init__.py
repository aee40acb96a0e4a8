"""Performance benchmarks: each one compares our code path against a plain baseline in the same run.

Run one with ``python -m benchmarks.NAME [--smoke] [--model M] [--data-dir D] [--out FILE.json]``
or all with ``python -m benchmarks.run_all`` (``make bench``). See ``docs/performance.md``.
"""

BENCHMARKS = ("train_throughput", "probe_cache", "cartography_overhead", "profile_vs_transfer",
              "hardware_limit")
