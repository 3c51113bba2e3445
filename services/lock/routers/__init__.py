"""One router per resource of the lock controller's HTTP API."""
