"""Tests of dependency-aware power: cascades, protection, idle auto-shutdown."""
