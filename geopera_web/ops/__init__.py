"""Running geopera-web as a service: health and readiness, heartbeats of the workers and the one
beat, graceful degradation when a shared service is down, and the sweeper that re-drives work whose
next step never ran. Imports no domain app (domain apps register their sweeps here)."""
