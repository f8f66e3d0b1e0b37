"""The core's errors form one tree under the node's ``NodeError``, and no core module defines
an exception of its own outside ``node/core/errors.py``."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import node.core
from node.core import errors
from node.errors import NodeError


def _core_modules() -> list[str]:
    return [f"node.core.{m.name}" for m in pkgutil.iter_modules(node.core.__path__)]


def test_every_core_error_is_a_protocol_error_and_a_node_error() -> None:
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, BaseException)]
    assert {c.__name__ for c in classes} >= {"ProtocolError", "DecodeError", "SealError", "SyncProtocolError"}
    for cls in classes:
        assert issubclass(cls, NodeError), cls
        if cls.__module__ == errors.__name__:
            assert issubclass(cls, errors.ProtocolError), cls


def test_no_core_module_defines_its_own_exception() -> None:
    for name in _core_modules():
        module = importlib.import_module(name)
        own = [
            c
            for _, c in inspect.getmembers(module, inspect.isclass)
            if issubclass(c, BaseException) and c.__module__ == name
        ]
        if name != errors.__name__:
            assert own == [], f"{name} defines {own}: put it in node/core/errors.py"
