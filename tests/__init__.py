"""Tests for WakeHub."""
