"""Attachments: ``/kiez/blob/1.0.0`` fetches the bytes a stored post names by hash from peers,
checks hash and size, and serves the blobs this node holds."""
