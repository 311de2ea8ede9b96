"""Benchmarks (see README.md here); not part of the test suite."""
