"""depaudit heap: heap growth between V8 snapshots, attributed to packages and app code."""
