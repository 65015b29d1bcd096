"""Benchmarks of ordersearch: scripts that print numbers (see docs/performance.md)."""
