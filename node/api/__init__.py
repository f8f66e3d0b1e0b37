"""The node's local HTTP API: JSON over HTTP/1.1 on 127.0.0.1, every call with a bearer token.

``http.py`` is a small HTTP server built on h11 (the sans-I/O HTTP library) and trio;
``routes.py`` maps requests to the node; ``openapi.json`` documents it.
"""
