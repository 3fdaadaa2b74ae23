"""The schema library Home Assistant uses, whichever release runs us.

Home Assistant 2026.10 moved from voluptuous to probatio, an API-compatible
successor; forms and actions must be built with the one the running core
expects. Every module imports `vol` from here.
"""

from __future__ import annotations

try:
    import probatio as vol
except ImportError:  # pragma: no cover - Home Assistant before 2026.10
    import voluptuous as vol  # type: ignore[no-redef]

__all__ = ["vol"]
