"""Distributed mode: the shared frontier, source leases and the scheduler that uses them."""
