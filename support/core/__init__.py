"""The bottom floor: polling, verdicts, the contract's rules, the target value; no peer, no I/O."""
