"""Resolving ``@Name`` and ``@0x…`` to the members a post mentions, when it is written."""

from __future__ import annotations

import pytest

from node.core import limits
from node.core.errors import MentionProblem
from node.core.mentions import resolve

DANA = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
BOB = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
ANNA = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
NAMES = {DANA: "Dana", BOB: "Bob", ANNA: "Anna Lena"}


@pytest.mark.parametrize(
    ("text", "mentioned"),
    [
        ("Thanks @Dana!", (DANA,)),
        ("@bob and @DANA, see you", (BOB, DANA)),  # ignoring case, in order of first mention
        ("@Dana @Dana", (DANA,)),
        ("@Anna Lena brings cake", (ANNA,)),  # a name with a space: the longest that fits
        ("@Danananana is nobody", ()),  # a name ends where a word ends
        ("mail me at dana@example.org", ()),  # nobody is called "example"
        ("@Dana_x", ()),
        (f"cc @{BOB.lower()}", (BOB,)),  # an address, as the member's own spelling
        ("cc @0x" + "ab" * 20, ("0x" + "ab" * 20,)),  # an address of someone not (yet) a member
        ("no mentions here", ()),
        ("a lone @ sign", ()),
    ],
)
def test_names_and_addresses_after_an_at_sign_are_mentions(text: str, mentioned: tuple[str, ...]) -> None:
    assert resolve(text, NAMES) == mentioned


def test_a_shared_name_cannot_say_whom_it_means() -> None:
    other = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
    with pytest.raises(MentionProblem) as problem:
        resolve("hi @dana", {**NAMES, other: "dana"})
    assert "2 members are called @dana" in str(problem.value)
    assert f"@{DANA}" in str(problem.value)
    assert f"@{other}" in str(problem.value)


def test_at_most_ten_members_per_post() -> None:
    many = {"0x" + f"{n:040x}": f"P{n}" for n in range(limits.MAX_MENTIONS + 1)}
    text = " ".join(f"@P{n}" for n in range(limits.MAX_MENTIONS + 1))
    with pytest.raises(MentionProblem, match="at most 10 members"):
        resolve(text, many)
    assert len(resolve(text.rsplit(" ", 1)[0], many)) == limits.MAX_MENTIONS
