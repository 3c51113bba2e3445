"""What every machine of seed 000 shares: order states, the order store, the status broadcaster,
the payment watcher and the order processor that robots and energy providers both run."""
