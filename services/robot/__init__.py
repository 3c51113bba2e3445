"""The robot of seed 000: takes orders over Socket.IO, is paid on the devnet, pays its energy
provider and works."""
