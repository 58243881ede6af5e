"""What scenarios stand on: the world, observations over time, faults, identity, probes."""
