"""The holder wallet: a mobile-first Flask web app over a SQLite store."""
