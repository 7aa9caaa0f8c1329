"""What the service does once when it starts: templates compiled, the start-up heap frozen."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient

from prrt.adapters.api.app import create_app
from prrt.adapters.api.settings import Settings
from prrt.adapters.web import pages


def test_start_up_compiles_the_templates_and_freezes_the_heap(tmp_path):
    app = create_app(Settings(data_dir=tmp_path))
    pages._ENV.cache.clear()
    try:
        with TestClient(app) as client:  # runs the lifespan
            compiled = {key[1] for key in pages._ENV.cache}  # (loader ref, name) keys
            assert {"base.html", "patient.html", "patients.html", "sign_in.html"} <= compiled
            assert gc.get_freeze_count() > 10_000  # the app's objects: out of the collector's way
            assert client.get("/sign-in").status_code == 200
    finally:
        gc.unfreeze()
        app.state.engine.dispose()
