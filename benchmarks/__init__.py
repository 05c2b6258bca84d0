"""Speed measurements; run with `make bench` or `python benchmarks/bench_NAME.py`."""
