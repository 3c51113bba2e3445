"""An EV charger (docs/charger.md): sells charging time to robots, paid on the devnet; built
step by step in docs/adding-a-machine.md."""
