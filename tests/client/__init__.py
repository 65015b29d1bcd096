"""Tests of the Python client (ordersearch.client) and of `ordersearch pull`."""
