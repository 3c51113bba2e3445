"""One package per machine; each runs as ``python -m services.<name>``."""
