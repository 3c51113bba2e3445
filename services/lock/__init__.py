"""Lock controller service (seed 004): decides who may unlock which machine over MQTT."""
