"""Benchmarks: each prints its figure beside the ceiling it is compared to, as a ratio."""
