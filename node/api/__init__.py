"""The node's local HTTP API: JSON over HTTP/1.1 on 127.0.0.1, every call with a bearer token.

``http.py`` is a small HTTP server built on h11 (the sans-I/O HTTP library) and trio, which judges
each request from its head before reading a body; ``connections.py`` caps and counts its
connections; ``router.py`` holds the route table's shape and dispatches on it; ``params.py``
declares the fields each route reads, with their exact types and ranges; ``app.py`` builds the
table from the route modules (``status``, ``messages``, ``rooms``, ``blobs``); ``openapi.json``
documents it.
"""
