"""The pure core of a kiez node: the wire format, signatures, validation and the community view.

Nothing here performs I/O or imports trio, libp2p, sqlite3 or web3: the rules of the network live
in plain functions over plain values, so they are tested in microseconds and a second
implementation can be checked against the published test vectors (``node/spec/``).
"""
