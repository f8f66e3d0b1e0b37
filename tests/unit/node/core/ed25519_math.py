"""Edwards25519 arithmetic in plain integers (RFC 8032, section 5.1), to forge the signatures
the vectors need: ones that satisfy the verification equation but break a rule libsodium adds
(S not reduced, R or the key of small order) and ones over a mixed-order key.

Slow and not constant-time: test-vector generation only, never for real keys.
"""

from __future__ import annotations

import hashlib

P = 2**255 - 19
#: The order of the base point's group.
L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, P - 2, P) % P
_SQRT_M1 = pow(2, (P - 1) // 4, P)

Point = tuple[int, int, int, int]  # extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, xy = T/Z
IDENTITY: Point = (0, 1, 1, 0)
#: The encoding of the identity, the best-known point of small order (order 1).
IDENTITY_BYTES = (1).to_bytes(32, "little")
#: A point of order 8 (the torsion subgroup's generator in the usual lists of small-order points).
ORDER_8_BYTES = bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")


def _x_of(y: int, sign: int) -> int:
    xx = (y * y - 1) * pow(_D * y * y + 1, P - 2, P) % P
    x = pow(xx, (P + 3) // 8, P)
    if (x * x - xx) % P:
        x = x * _SQRT_M1 % P
    if (x * x - xx) % P:
        raise ValueError("not a point on edwards25519")
    return P - x if x & 1 != sign else x


def decode(data: bytes) -> Point:
    y = int.from_bytes(data, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = _x_of(y, sign)
    return (x, y, 1, x * y % P)


def encode(point: Point) -> bytes:
    x_, y_, z, _ = point
    inverse = pow(z, P - 2, P)
    x, y = x_ * inverse % P, y_ * inverse % P
    return (y | (x & 1) << 255).to_bytes(32, "little")


def add(a: Point, b: Point) -> Point:
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    p, q = (y1 - x1) * (y2 - x2) % P, (y1 + x1) * (y2 + x2) % P
    r, s = t1 * 2 * _D * t2 % P, z1 * 2 * z2 % P
    e, f, g, h = q - p, s - r, s + r, q + p
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def multiply(scalar: int, point: Point) -> Point:
    result = IDENTITY
    while scalar:
        if scalar & 1:
            result = add(result, point)
        point, scalar = add(point, point), scalar >> 1
    return result


_BASE_Y = 4 * pow(5, P - 2, P) % P
BASE: Point = (_x_of(_BASE_Y, 0), _BASE_Y, 1, _x_of(_BASE_Y, 0) * _BASE_Y % P)


def secret_scalar(seed: bytes) -> int:
    """The scalar ``a`` of the key pair an RFC 8032 seed makes (public key = [a]B)."""
    a = int.from_bytes(hashlib.sha512(seed).digest()[:32], "little")
    return (a & ((1 << 254) - 8)) | (1 << 254)


def challenge(r: bytes, public: bytes, message: bytes) -> int:
    """k = SHA-512(R || A || M) mod L."""
    return int.from_bytes(hashlib.sha512(r + public + message).digest(), "little") % L


def signature(r: bytes, s: int) -> bytes:
    return r + s.to_bytes(32, "little")
