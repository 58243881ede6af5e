"""Chaos with a history (`make chaos`): a workload of real broadcasters and viewers runs while a
seeded nemesis stops, pauses and restarts the servers of the embedded stack; every operation is
recorded with its outcome, and a checker proves the contract's properties over the whole history
(docs/reliability.md, "Chaos")."""
