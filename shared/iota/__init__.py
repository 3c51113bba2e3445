"""IOTA building blocks shared by every machine: trinary codecs, Curl, wallet, ZMQ."""
