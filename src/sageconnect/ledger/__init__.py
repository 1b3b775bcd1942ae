"""Pure: what is owed, from records alone."""
