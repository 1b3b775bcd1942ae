"""The canonical store: SQLite by default, PostgreSQL by URL."""
