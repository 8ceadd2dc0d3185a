"""The shared vocabulary of the after-sales domain."""
