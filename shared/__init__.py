"""The machine economy's common library: IOTA, MAM, MQTT and service plumbing.

Libraries here are imported, never run; services/ are run, never imported.
"""
