"""The lock device: MicroPython-subset firmware (lockdevice) and its CPython host (host/)."""
