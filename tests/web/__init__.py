"""The web layer (backend/web): the HTTP API, its guards and the server, against live servers."""
