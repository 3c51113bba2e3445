"""A fleet: many machines of one kind (robots, wind or solar providers) in one process
(docs/fleet.md)."""
