"""A standalone payment-channel node (seed 003): peer router, admin API, watcher."""
