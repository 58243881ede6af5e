"""Runners and command lines on top of everything: parallel, mutants, soak, crowd, publish."""
