"""Cases at work: moving between tiers, tasks at windows, decisions, pauses."""
