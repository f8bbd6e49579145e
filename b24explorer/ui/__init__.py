"""The window: PySide6 widgets over the core (Qt is imported through ``ui.qt`` only)."""
