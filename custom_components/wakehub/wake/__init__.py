"""Wake on access: a per-resource link that starts the resource, then opens it.

- `tokens`: the link's secret; `limits`: start cap, slowed wrong guesses;
- `probe`: does the service answer; `session`: one wake per resource, its layers
  and the estimate from the last wakes; `activity`: hits keep it awake;
- `page` + `texts`: the waiting page; `views`: the two endpoints;
- `visit`: the device's Visit link. Settings: flows/wake_settings.py.
"""
