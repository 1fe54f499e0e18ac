"""One router per resource; `api.app.create_app` mounts each under `/v1`."""
