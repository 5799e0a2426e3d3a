"""The audit's write side: event handlers, run in the consumers' units of work, and the timer's.

`ledger` appends to the log, signs checkpoints and keeps children's; `stats` moves the counters.
"""
