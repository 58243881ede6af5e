"""The suite's reusable layer: protocol clients, store checkers, the embedded stack, the target."""
