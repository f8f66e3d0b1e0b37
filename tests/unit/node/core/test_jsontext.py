"""JSON from outside is parsed without recursing on the C stack, and bad JSON is an error."""

from __future__ import annotations

import subprocess
import sys

import pytest

from node.core.jsontext import BadJson, parse


def test_plain_json_parses() -> None:
    assert parse(b'{"text": "hi", "n": [1, 2.5, null, true]}') == {"text": "hi", "n": [1, 2.5, None, True]}
    assert parse('"caf\\u00e9"') == "café"


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"[" * 100_000, "depth limit"),
        (b'{"a":' * 5_000 + b"1" + b"}" * 5_000, "depth limit"),
        (b'"\\ud800"', "surrogate"),
        (b'"\xff"', "UTF-8"),
        (b"1e999", "infinity"),
        (b"NaN", "expected a JSON value"),
        (b"", "Input is a zero-length"),
    ],
)
def test_bad_json_is_an_error_that_says_why(data: bytes, why: str) -> None:
    with pytest.raises(BadJson, match=why):
        parse(data)


def test_deep_nesting_does_not_crash_a_process_that_imported_web3() -> None:
    # web3 imports py_ecc, which raises the recursion limit to 100,000; the standard decoder then
    # overflows the C stack on deep input (SIGSEGV). The child must print its error and exit 0.
    code = (
        "import sys, web3\n"
        "assert sys.getrecursionlimit() >= 100_000, sys.getrecursionlimit()\n"
        "from node.core.jsontext import BadJson, parse\n"
        "try:\n"
        "    parse(b'[' * 400_000)\n"
        "except BadJson as exc:\n"
        "    print('refused:', exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "refused: not valid JSON: depth limit exceeded" in done.stdout
