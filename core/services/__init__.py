"""Use cases: take a unit of work, an actor and `now`; check permission; return frozen views."""
