"""A node starts without importing numpy, scikit-learn or SciPy: scikit-learn and SciPy take
seconds to import, numpy takes about 15 MB of memory, and they are needed only once a member
asks for a ranked feed or an opinion map. Nor does ``kiez node run`` import the other commands'
modules, or the dev harness that plugs into ``kiez``."""

from __future__ import annotations

import subprocess
import sys


def test_starting_a_node_does_not_import_the_ranking_libraries() -> None:
    probe = (
        "import sys, node.daemon.runner, node.cli, node.api.app;"
        "print(sorted({'numpy', 'sklearn', 'scipy', 'threadpoolctl'} & set(sys.modules)))"
    )
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    assert found.stdout.strip() == "[]", found.stdout + found.stderr


def test_the_ranking_libraries_load_when_a_map_is_drawn() -> None:
    probe = (
        "import sys; from node.core.opinions import _groups; import numpy as np;"
        "_groups(np.array([[0.0, 0.0], [0.0, 0.1], [5.0, 5.0], [5.0, 5.1], [9.0, 0.0], [9.1, 0.0]]), 3);"
        "print('sklearn' in sys.modules)"
    )
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    assert found.stdout.strip() == "True", found.stdout + found.stderr


def test_kiez_node_run_imports_no_other_command_and_not_the_harness() -> None:
    probe = (
        "import sys; from node.cli import main; main(['node', 'run', '--help'], standalone_mode=False);"
        "print(sorted(m for m in sys.modules if m.startswith(('node.cli.', 'node.harness', 'segno'))))"
    )
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    assert found.stdout.strip().splitlines()[-1] == "['node.cli.run', 'node.cli.toolkit']", found.stdout + found.stderr
