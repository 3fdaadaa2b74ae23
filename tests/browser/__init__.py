"""WakeHub in a real browser (see conftest.py for how to run it)."""
