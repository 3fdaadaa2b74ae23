"""Stateful fakes of the platforms WakeHub drives, served on loopback.

Used by the tests (over real sockets) and by `scripts/demo`.
"""
