"""Benchmarks: the mock against its stack's ceiling and Stoplight Prism. `python -m bench` writes bench/RESULTS.md."""
