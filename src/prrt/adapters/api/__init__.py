"""The clinic's REST API (FastAPI): ``create_app(settings)`` builds the service with its pages."""

from prrt.adapters.api.app import create_app
from prrt.adapters.api.settings import Settings

__all__ = ["Settings", "create_app"]
