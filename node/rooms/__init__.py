"""Rooms at run time: a gossip topic per followed room (``topics``), and private rooms: this
node's X25519 key, room keys, sealing and opening content, and key rotation (``private``). The
rules of rooms are pure and live in ``node.core.rooms``."""
