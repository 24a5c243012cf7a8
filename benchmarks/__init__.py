"""Benchmark commands; each writes its numbers to benchmarks/results/."""
