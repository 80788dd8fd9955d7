"""Base classes from installed libraries: read from the environment's sources (never imported), and
from the shipped index when the library is not installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import flake8, nncheck_here

from nncheck.model import library_index

CALL = "    def __call__(self, x):\n        return x\n"


def interpreter(folder: Path, site: Path | None) -> str:
    """A stand-in for another environment's python: it answers nncheck's question with `site`."""
    script = folder / "python"
    paths = json.dumps([str(site)] if site else [])
    script.write_text(f"#!/bin/sh\necho '{paths}'\n")
    script.chmod(0o755)
    return str(script)


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


# A library laid out as transformers 5 is: public names declared under TYPE_CHECKING through star
# imports, each model's module with its __all__.
LIBRARY = {
    "fakelib/__init__.py": (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from .models import *\n"
        "    from .layers import Mlp\n"
        "else:\n"
        "    import sys\n"
        "    sys.modules[__name__] = object()\n"
    ),
    "fakelib/models/__init__.py": "from .bert import *\nfrom .gpt import *\n",
    "fakelib/models/bert/__init__.py": "from .modeling_bert import *\nfrom .configuration_bert import *\n",
    "fakelib/models/bert/configuration_bert.py": "class BertConfig:\n    pass\n__all__ = ['BertConfig']\n",
    "fakelib/models/bert/modeling_bert.py": (
        "from torch import nn\n"
        "class BertPreTrainedModel(nn.Module):\n    pass\n"
        "class BertModel(BertPreTrainedModel):\n    pass\n"
        "__all__ = ['BertModel']\n"
    ),
    "fakelib/models/gpt/__init__.py": "from .modeling_gpt import *\n",
    "fakelib/models/gpt/modeling_gpt.py": (
        "import torch\nclass GPTModel(torch.nn.Module):\n    pass\nclass Tokenizer:\n    pass\n"
    ),
    "fakelib/layers/__init__.py": "from .mlp import Mlp, Mlp as MlpAlias\n",
    "fakelib/layers/mlp.py": "import torch.nn as nn\nclass Mlp(nn.Module):\n    pass\n",
}

USER = (
    "from fakelib import BertModel, GPTModel, Mlp, BertConfig, BertPreTrainedModel\n"
    "from fakelib.layers import MlpAlias\n"
    "from fakelib.models.gpt import Tokenizer\n"
    "from fakelib.models.bert.modeling_bert import BertPreTrainedModel as Base\n"
    "\n"
    "class A(BertModel):\n" + CALL +  # line 6: through two star imports and __all__
    "class B(GPTModel):\n" + CALL +  # line 9: a star import of a module without __all__
    "class C(Mlp):\n" + CALL +  # line 12: imported under TYPE_CHECKING
    "class D(MlpAlias):\n" + CALL +  # line 15: an alias
    "class E(Base):\n" + CALL +  # line 18: named explicitly, though not in __all__
    "class F(BertConfig):\n" + CALL +  # not a module
    "class G(Tokenizer):\n" + CALL +  # not a module
    "class H(BertPreTrainedModel):\n" + CALL  # not exported by the star import (__all__ leaves it out)
)


def test_bases_from_an_installed_library_are_followed_through_its_public_names(tmp_cwd: Path) -> None:
    site = tmp_cwd / "env" / "site-packages"
    write_tree(site, LIBRARY)
    (tmp_cwd / "m.py").write_text(USER)
    result = nncheck_here("--no-cache", "--python", interpreter(tmp_cwd, site), "m.py", cwd=tmp_cwd)
    found = [line.split(" ", 2)[:2] for line in result.stdout.splitlines()]
    assert found == [[f"m.py:{line}:5:", "NNC001"] for line in (7, 10, 13, 16, 19)], result.stdout + result.stderr


def test_the_python_setting_in_the_configuration_and_in_flake8(tmp_cwd: Path) -> None:
    site = tmp_cwd / "env" / "site-packages"
    write_tree(site, LIBRARY)
    (tmp_cwd / "m.py").write_text(USER)
    python = interpreter(tmp_cwd, site)
    (tmp_cwd / "pyproject.toml").write_text('[tool.nncheck]\npython = "./python"\n')
    result = nncheck_here("--no-cache", "m.py", cwd=tmp_cwd)
    assert result.stdout.count("NNC001") == 5, result.stdout + result.stderr
    plugin = flake8("--select", "NNC", f"--nncheck-python={python}", "m.py", cwd=tmp_cwd)
    assert plugin.stdout.count("NNC001") == 5, plugin.stdout + plugin.stderr


def test_an_interpreter_that_cannot_be_run_is_a_usage_error(tmp_cwd: Path) -> None:
    (tmp_cwd / "m.py").write_text("x = 1\n")
    result = nncheck_here("--python", str(tmp_cwd / "missing" / "python"), "m.py", cwd=tmp_cwd)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("nncheck: error: --python: cannot run the Python interpreter ")
    assert len(result.stderr.splitlines()) == 1


def test_a_real_interpreter_is_asked_for_its_import_path(tmp_cwd: Path) -> None:
    site = tmp_cwd / "extra"
    write_tree(site, LIBRARY)
    (tmp_cwd / "m.py").write_text(USER)
    # A copy of this interpreter's path under a new name, so that the answer is asked afresh.
    link = tmp_cwd / "python3"
    link.symlink_to(sys.executable)
    env_before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(site)
    try:
        result = nncheck_here("--no-cache", "--python", str(link), "m.py", cwd=tmp_cwd)
    finally:
        if env_before is None:
            os.environ.pop("PYTHONPATH")
        else:
            os.environ["PYTHONPATH"] = env_before
    assert result.stdout.count("NNC001") == 5, result.stdout + result.stderr


# Mixins as a library ships them: re-exported by a star import under TYPE_CHECKING, one setting state
# in its __init__ (through a base), one without an __init__, one that only passes the call on.
MIXIN_LIBRARY = {
    "mixlib/__init__.py": (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from .mixins import *\n"
    ),
    "mixlib/mixins.py": (
        "import abc\n"
        "class _Registry(abc.ABC):\n"
        "    def __init__(self):\n"
        "        self.registry = {}\n"
        "class RegistryMixin(_Registry):\n"
        "    pass\n"
        "class HubMixin:\n"
        "    def push(self):\n"
        "        return None\n"
        "class Passing:\n"
        "    def __init__(self, *args, **kwargs):\n"
        "        super().__init__(*args, **kwargs)\n"
        "__all__ = ['RegistryMixin', 'HubMixin', 'Passing']\n"
    ),
}

MIXIN_USER = (
    "from torch import nn\n"
    "from mixlib import HubMixin, Passing, RegistryMixin\n"
    "class A(nn.Module, RegistryMixin):\n"  # line 3
    "    pass\n"
    "class B(nn.Module, HubMixin):\n"
    "    pass\n"
    "class C(nn.Module, Passing):\n"
    "    pass\n"
)


def test_a_mixins_init_is_found_in_an_installed_library(tmp_cwd: Path) -> None:
    site = tmp_cwd / "env" / "site-packages"
    write_tree(site, MIXIN_LIBRARY)
    (tmp_cwd / "m.py").write_text(MIXIN_USER)
    result = nncheck_here("--no-cache", "--python", interpreter(tmp_cwd, site), "m.py", cwd=tmp_cwd)
    found = [line.split(" ", 2)[:2] for line in result.stdout.splitlines()]
    assert found == [["m.py:3:1:", "NNC017"]], result.stdout + result.stderr
    # Not installed (another environment): the mixin cannot be read, so nothing is said about it.
    (tmp_cwd / "bare").mkdir()
    absent = nncheck_here("--no-cache", "--python", interpreter(tmp_cwd / "bare", None), "m.py", cwd=tmp_cwd)
    assert (absent.returncode, absent.stdout) == (0, ""), absent.stdout


INDEXED = (
    "import torchvision\n"
    "from timm.layers import Mlp\n"
    "from transformers import BertModel\n"
    "from transformers.models.bert.modeling_bert import BertForMaskedLM\n"
    "from diffusers import UNet2DModel\n"
    "from torch_geometric.nn import GCNConv\n"
    "from peft import PeftModel\n"
    "from lightning.pytorch import LightningModule\n"
    "from transformers import BertConfig\n"
    "\n"
    "class A(torchvision.models.ResNet):\n" + CALL +  # 11
    "class B(Mlp):\n" + CALL +
    "class C(BertModel):\n" + CALL +
    "class D(BertForMaskedLM):\n" + CALL +
    "class E(UNet2DModel):\n" + CALL +
    "class F(GCNConv):\n" + CALL +
    "class G(PeftModel):\n" + CALL +
    "class H(LightningModule):\n" + CALL +
    "class I(BertConfig):\n" + CALL  # a configuration, not a module
)


def test_libraries_that_are_not_installed_are_known_from_the_index(tmp_cwd: Path) -> None:
    (tmp_cwd / "m.py").write_text(INDEXED)
    result = nncheck_here("--no-cache", "--python", interpreter(tmp_cwd, None), "m.py", cwd=tmp_cwd)
    lines = [int(line.split(":")[1]) for line in result.stdout.splitlines()]
    assert lines == [12, 15, 18, 21, 24, 27, 30, 33], result.stdout + result.stderr


def test_an_installed_library_wins_over_the_index(tmp_cwd: Path) -> None:
    site = tmp_cwd / "site-packages"
    write_tree(site, {"transformers/__init__.py": "class BertModel:\n    pass\n"})
    (tmp_cwd / "m.py").write_text("from transformers import BertModel\nclass C(BertModel):\n" + CALL)
    result = nncheck_here("--no-cache", "--python", interpreter(tmp_cwd, site), "m.py", cwd=tmp_cwd)
    assert (result.returncode, result.stdout) == (0, "")


def test_the_index_covers_the_libraries_it_promises() -> None:
    assert set(library_index.versions()) >= {
        "torchvision", "timm", "transformers", "diffusers", "lightning", "pytorch_lightning", "torch_geometric",
        "torchaudio", "peft",
    }
    assert library_index.is_module("transformers.BertModel")
    assert library_index.is_module("transformers.models.bert.BertModel")
    assert library_index.is_module("timm.models.vision_transformer.VisionTransformer")
    assert not library_index.is_module("transformers.BertConfig")
    assert not library_index.is_module("numpy.ndarray")


def test_installed_files_are_recorded_in_the_cache_by_size_and_time(tmp_cwd: Path) -> None:
    from nncheck.files.cache import ResultCache

    site = tmp_cwd / "lib" / "site-packages"
    write_tree(site, {"lib.py": "x = 1\n"})
    cache = ResultCache(str(tmp_cwd / "cache"))
    info = os.stat(site / "lib.py")
    assert cache.digest(str(site / "lib.py")) == f"stat:{info.st_size}:{info.st_mtime_ns}"
    assert not cache.digest(str(tmp_cwd / "m.py")).startswith("stat:")


@pytest.mark.slow
def test_with_real_libraries_installed_in_a_virtualenv(tmp_path: Path) -> None:
    wheels = os.environ.get("NNCHECK_LIBRARY_WHEELS")
    if not wheels:
        pytest.skip("set NNCHECK_LIBRARY_WHEELS to a folder with the timm and transformers wheels")
    venv = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    found = sorted(str(p) for p in Path(wheels).glob("*.whl") if p.name.startswith(("timm-", "transformers-")))
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", *found], check=True)
    (tmp_path / "m.py").write_text(
        "from timm.layers import Mlp\nfrom transformers import BertModel\n"
        "class A(Mlp):\n" + CALL + "class B(BertModel):\n" + CALL
    )
    result = nncheck_here("--no-cache", "--python", str(python), "m.py", cwd=tmp_path)
    assert [line.split(" ", 2)[:2] for line in result.stdout.splitlines()] == [
        ["m.py:4:5:", "NNC001"], ["m.py:7:5:", "NNC001"]
    ], result.stdout + result.stderr
