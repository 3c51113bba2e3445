"""The battery: buys energy from the grid when it is cheap, sells it when it is dear."""
