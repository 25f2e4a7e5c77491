"""Storage: Piccolo tables and migrations, engine setup, the group-commit writer."""
