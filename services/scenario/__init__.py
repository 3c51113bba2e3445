"""Economy scenarios: describe an economy in a YAML file, run it headless on the real
services, read the report (docs/scenarios.md)."""
