"""Dunning: plan who to remind, how and when (pure), then send each reminder once."""
