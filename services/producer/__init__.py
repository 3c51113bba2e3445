"""The seed-001 producer: sources register their channels here; it sums their output per
slice, asks its price and publishes on its own channel for the grid, which pays it."""
