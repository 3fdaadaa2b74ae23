"""Tests of the platform clients against their simulators, over real sockets."""
