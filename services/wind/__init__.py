"""The wind energy provider of seed 000: sells energy to a robot, is paid on the devnet and
delivers."""
