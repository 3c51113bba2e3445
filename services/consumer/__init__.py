"""The seed-001 consumer: publishes its household's usage per slice, registers with the
grid, reads the grid's payment requests and pays each with a real signed transfer."""
