"""Benchmarks: `python -m benchmarks [--full] [NAME ...]` runs every `bench_*.py` module here and
prints one table. Each module's `run(quick)` measures its own baseline in the same run, so the
ratios compare like with like on this machine."""
