"""CPython stand-ins for what a MicroPython board provides: umqtt.simple and machine.Pin."""
