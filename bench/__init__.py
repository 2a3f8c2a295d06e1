"""Benchmark scripts that print figures (never pass/fail); results go into docs/performance.md."""
