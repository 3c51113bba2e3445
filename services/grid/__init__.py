"""The grid of the P2P energy simulation (seed 001): registration and storage APIs,
pricing, payment requests to consumers and payouts to producers."""
