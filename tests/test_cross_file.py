"""Cross-file resolution edge cases that the walked fixture projects cannot hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import flake8, nncheck, nncheck_here
from test_cli import write

USE = "from mylib.base import Base\n\n\nclass Net(Base):\n    def __init__(self):\n        self.x = 1\n"
FOUND = "app/net.py:5:5: NNC002"


def test_src_roots_from_the_command_and_flake8(tmp_cwd: Path) -> None:
    write(tmp_cwd / "libs" / "mylib" / "__init__.py", "")
    write(tmp_cwd / "libs" / "mylib" / "base.py", "import torch\n\n\nclass Base(torch.nn.Module):\n    pass\n")
    write(tmp_cwd / "app" / "net.py", USE)
    assert nncheck_here("app/net.py", cwd=tmp_cwd).stdout == ""
    assert nncheck_here("--src", "libs", "app/net.py", cwd=tmp_cwd).stdout.startswith(FOUND)
    assert flake8("--select", "NNC", "app/net.py", cwd=tmp_cwd).stdout == ""
    assert flake8("--select", "NNC", "--nncheck-src", "libs", "app/net.py", cwd=tmp_cwd).stdout.startswith(FOUND)


def test_unparsable_or_missing_base_file_leaves_the_base_unresolved(tmp_cwd: Path) -> None:
    write(tmp_cwd / "app" / "mylib" / "__init__.py", "")
    write(tmp_cwd / "app" / "mylib" / "base.py", "class Base(:\n")
    write(tmp_cwd / "app" / "net.py", USE + "from mylib.gone import Other\n\n\nclass B(Other):\n    pass\n")
    result = nncheck_here("app/net.py", cwd=tmp_cwd)
    assert (result.returncode, result.stdout) == (0, "")


def test_editing_only_the_base_file_changes_the_findings(tmp_cwd: Path) -> None:
    write(tmp_cwd / "app" / "mylib" / "__init__.py", "")
    write(tmp_cwd / "app" / "mylib" / "base.py", "class Base:\n    pass\n")
    write(tmp_cwd / "app" / "net.py", USE)
    assert nncheck_here("app/net.py", cwd=tmp_cwd).stdout == ""
    write(tmp_cwd / "app" / "mylib" / "base.py", "from torch import nn\n\n\nclass Base(nn.Module):\n    pass\n")
    assert nncheck_here("app/net.py", cwd=tmp_cwd).stdout.startswith(FOUND)


def test_direct_forward_calls_are_off_by_default(tmp_cwd: Path) -> None:
    write(tmp_cwd / "x.py", (
        "from torch import nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.fc = nn.Linear(2, 2)\n\n    def forward(self, x):\n        return self.fc.forward(x)\n"
    ))
    assert nncheck_here("x.py", cwd=tmp_cwd).stdout == ""
    assert nncheck_here("--select", "NNC", "x.py", cwd=tmp_cwd).stdout == ""
    assert "x.py:10:16: NNC007" in nncheck_here("--extend-select", "NNC007", "x.py", cwd=tmp_cwd).stdout
    assert "NNC007" not in flake8("x.py", cwd=tmp_cwd).stdout
    assert "x.py:10:16: NNC007" in flake8("--extend-select", "NNC007", "x.py", cwd=tmp_cwd).stdout


def test_a_src_layout_is_found_from_tests_without_configuration(tmp_cwd: Path) -> None:
    # The usual pytest layout: tests/ has no __init__.py, the package lives in src/.
    write(tmp_cwd / "pyproject.toml", '[project]\nname = "mypkg"\n')
    write(tmp_cwd / "src" / "mypkg" / "__init__.py", "")
    write(tmp_cwd / "src" / "mypkg" / "layers.py", "from torch import nn\n\n\nclass Base(nn.Module):\n    pass\n")
    write(tmp_cwd / "tests" / "test_a.py", USE.replace("mylib.base", "mypkg.layers"))
    assert nncheck_here("tests", cwd=tmp_cwd).stdout.startswith("tests/test_a.py:5:5: NNC002")
    assert flake8("--select", "NNC", "tests", cwd=tmp_cwd).stdout.startswith("tests/test_a.py:5:5: NNC002")
    # A configured src replaces the default.
    write(tmp_cwd / "pyproject.toml", '[tool.nncheck]\nsrc = ["lib"]\n')
    assert nncheck_here("tests", cwd=tmp_cwd).stdout == ""


def test_editing_only_the_mixins_file_changes_the_findings(tmp_cwd: Path) -> None:
    # The result cache must know that NNC017's answer depends on the file that defines the mixin.
    write(tmp_cwd / "app" / "mylib" / "__init__.py", "")
    write(tmp_cwd / "app" / "mylib" / "mixins.py", "class Logged:\n    pass\n")
    write(tmp_cwd / "app" / "net.py", (
        "from torch import nn\n\nfrom mylib.mixins import Logged\n\n\nclass Net(nn.Module, Logged):\n    pass\n"
    ))
    assert nncheck_here("app/net.py", cwd=tmp_cwd).stdout == ""
    write(tmp_cwd / "app" / "mylib" / "mixins.py", "class Logged:\n    def __init__(self):\n        self.log = []\n")
    assert nncheck_here("app/net.py", cwd=tmp_cwd).stdout.startswith("app/net.py:6:1: NNC017")


BASE_WITH_HELPERS = '''from torch import nn


class Base(nn.Module):
    def post_init(self):
        self.tie()

    def tie(self):
        self.ready = True

    def setup(self):
        self.prepare()

    def prepare(self):
        nn.Module.__init__(self)
'''
HELPED = '''from mylib.base import Base
from mylib.gone import Elsewhere


class Posted(Base):
    def __init__(self):
        self.post_init()


class Set(Base):
    def __init__(self):
        self.setup()


class Unknown(Elsewhere, Base):
    def __init__(self):
        self.post_init()
'''


def test_a_helper_inherited_from_another_file_is_read_to_see_whether_it_runs_the_base_init(tmp_cwd: Path) -> None:
    # transformers' `self.post_init()` runs no base __init__: only the helper that reaches one counts.
    write(tmp_cwd / "app" / "mylib" / "__init__.py", "")
    write(tmp_cwd / "app" / "mylib" / "base.py", BASE_WITH_HELPERS)
    write(tmp_cwd / "app" / "net.py", HELPED)
    result = nncheck_here("--select", "NNC002", "app/net.py", cwd=tmp_cwd)
    found = [line.split(" ")[:2] for line in result.stdout.splitlines() if "NNC002" in line]
    assert found == [["app/net.py:6:5:", "NNC002"]]
    # Editing only the base file changes the answer: the result cache sees it.
    write(tmp_cwd / "app" / "mylib" / "base.py", BASE_WITH_HELPERS.replace("self.ready = True", "self.prepare()"))
    result = nncheck_here("--select", "NNC002", "app/net.py", cwd=tmp_cwd)
    assert "NNC002" not in result.stdout


def test_a_name_a_star_import_only_may_bind_later_is_seen_once_a_file_below_it_binds_it(tmp_cwd: Path) -> None:
    # `from .models import *` fans out; the files below that never spell the name are not parsed, but
    # editing one of them (two star imports down) to bind it must still change the cached findings.
    # (Each run a process of its own, as from a shell: one process keeps other files' answers.)
    write(tmp_cwd / "app" / "mylib" / "__init__.py", "from .models import *\n")
    write(tmp_cwd / "app" / "mylib" / "models" / "__init__.py", "from .a import *\nfrom .b import *\n")
    write(tmp_cwd / "app" / "mylib" / "models" / "a" / "__init__.py", "from .modeling_a import *\n")
    write(tmp_cwd / "app" / "mylib" / "models" / "a" / "modeling_a.py", "class Other:\n    pass\n")
    write(tmp_cwd / "app" / "mylib" / "models" / "b" / "__init__.py", "from .modeling_b import *\n")
    write(tmp_cwd / "app" / "mylib" / "models" / "b" / "modeling_b.py", "class Unrelated:\n    pass\n")
    write(tmp_cwd / "app" / "net.py", USE.replace("from mylib.base import", "from mylib import"))
    assert nncheck("app/net.py", cwd=tmp_cwd).stdout == ""
    write(tmp_cwd / "app" / "mylib" / "models" / "b" / "modeling_b.py",
          "from torch import nn\n\n\nclass Base(nn.Module):\n    pass\n")
    assert nncheck("app/net.py", cwd=tmp_cwd).stdout.startswith(FOUND)
    assert nncheck("--no-cache", "app/net.py", cwd=tmp_cwd).stdout.startswith(FOUND)


@pytest.mark.parametrize("binding", [
    "from torch.nn import Module as Base\n",
    "from torch.nn import (\n    Linear,\n    Module as Base,\n)\n",
    "from torch import nn\nBase = nn.Module\n",
    "import torch\n\n\nclass Base(torch.nn.Module):\n    pass\n",
    "import torch\n\nif torch:\n    Base: type = torch.nn.Module\n",
])
def test_a_name_bound_below_star_imports_is_found_however_the_statement_binds_it(tmp_cwd: Path, binding: str) -> None:
    # The files the star imports fan out to are read only where a statement could bind the name; a
    # docstring that only speaks of it (in prose or a doctest) does not count.
    prose = '"""Subclass [`Base`]:\n\n>>> from mylib import Base\n"""\n'
    write(tmp_cwd / "app" / "mylib" / "__init__.py", "from .models import *\n")
    write(tmp_cwd / "app" / "mylib" / "models" / "__init__.py", "from .a import *\nfrom .b import *\n")
    write(tmp_cwd / "app" / "mylib" / "models" / "a.py", prose + "class Other:\n    pass\n")
    write(tmp_cwd / "app" / "mylib" / "models" / "b.py", prose + binding)
    write(tmp_cwd / "app" / "net.py", USE.replace("from mylib.base import", "from mylib import"))
    assert nncheck_here("--no-cache", "app/net.py", cwd=tmp_cwd).stdout.startswith(FOUND)
