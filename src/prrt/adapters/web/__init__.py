"""Server-rendered pages of the clinic service (templates and the project's own stylesheet)."""
