"""The REST API (FastAPI, ``/api/v1``) and, later, the web console."""
