"""Runtime reachability: which placements the service loads from its entry points."""
