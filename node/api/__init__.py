"""The node's local HTTP API: JSON over HTTP/1.1 on 127.0.0.1, every call with a token or session.

FastAPI declares the routes (``status``, ``messages``, ``rooms``, ``blobs``, ``web``; their fields
are pydantic types from ``fields``) and generates the OpenAPI document; ``app`` puts them in one
app behind ``guard``, which judges each request from its head before any body is read;
``server`` runs it on Hypercorn's HTTP/1.1 handling with the connection cap of ``connections``;
``problems`` words every refusal the same way.
"""
