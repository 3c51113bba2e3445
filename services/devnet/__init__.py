"""Private IOTA devnet: an IRI 1.8-compatible node, its coordinator, ZMQ feed and faucet."""
