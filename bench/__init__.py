"""Benchmarks: every figure is paired with a ceiling measured in the same run (see bench/README.md)."""
