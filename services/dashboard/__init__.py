"""The browser demo of seed 000: one page showing robots and energy providers live, with a
faucet proxy so a visitor can pay an order with one click."""
