"""Reliability tests (issue 5): tenant isolation, crash safety, a short soak."""
