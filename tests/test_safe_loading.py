"""No code path may execute a pickle: ``torch.load`` only with ``weights_only=True``, no ``pickle`` (or a library built
on it), no ``allow_pickle=True``. Scans ``src/``, ``benchmarks/`` and ``scripts/`` (Python by syntax tree, so a
comment or docstring that mentions pickle is fine; shell scripts line by line) and names each ``file:line``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("src", "benchmarks", "scripts")
PICKLE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "shelve", "joblib", "pickletools"}
PICKLE_CALLS = {"read_pickle", "to_pickle"}  # pandas
SHELL_PATTERNS = [
    (re.compile(r"torch\.load\((?![^)]*weights_only\s*=\s*True)"), "torch.load without weights_only=True"),
    (re.compile(r"\b(import|from)\s+(c?pickle|dill|cloudpickle|joblib|shelve)\b"), "pickle import"),
    (re.compile(r"allow_pickle\s*=\s*True"), "allow_pickle=True"),
]


def _is_true(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _is_false(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


class _Finder(ast.NodeVisitor):
    """Collects ``(line, what)`` for every unsafe loading construct in one module."""

    def __init__(self) -> None:
        self.found: list[tuple[int, str]] = []
        self.torch_names = {"torch"}  # names bound to the torch module
        self.load_names: set[str] = set()  # names bound to torch.load

    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            root = a.name.split(".")[0]
            if root in PICKLE_MODULES:
                self.found.append((node.lineno, f"import {a.name}"))
            if a.name == "torch":
                self.torch_names.add(a.asname or "torch")
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        root = (node.module or "").split(".")[0]
        if root in PICKLE_MODULES:
            self.found.append((node.lineno, f"from {node.module} import ..."))
        for a in node.names:
            if a.name in PICKLE_MODULES:
                self.found.append((node.lineno, f"from {node.module} import {a.name}"))
            if node.module in ("torch", "torch.serialization") and a.name == "load":
                self.load_names.add(a.asname or "load")
        self.generic_visit(node)

    def _is_torch_load(self, func: ast.expr) -> bool:
        if isinstance(func, ast.Name):
            return func.id in self.load_names
        if not (isinstance(func, ast.Attribute) and func.attr == "load"):
            return False
        base = func.value
        if isinstance(base, ast.Attribute) and base.attr == "serialization":  # torch.serialization.load
            base = base.value
        return isinstance(base, ast.Name) and base.id in self.torch_names

    def visit_Call(self, node: ast.Call) -> None:
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        if self._is_torch_load(node.func) and not _is_true(kw.get("weights_only", ast.Constant(False))):
            self.found.append((node.lineno, "torch.load without weights_only=True"))
        if "allow_pickle" in kw and not _is_false(kw["allow_pickle"]):
            self.found.append((node.lineno, "allow_pickle is not False"))
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name in PICKLE_CALLS:
            self.found.append((node.lineno, f"{name}(...)"))
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in PICKLE_MODULES - {"shelve"}:
            self.found.append((node.lineno, f"uses {node.id}"))


def scan_python(text: str, name: str) -> list[str]:
    finder = _Finder()
    finder.visit(ast.parse(text, filename=name))
    return sorted({f"{name}:{line}: {what}" for line, what in finder.found})


def scan_shell(text: str, name: str) -> list[str]:
    found = []
    for i, line in enumerate(text.splitlines(), 1):
        code = line.split("#", 1)[0] if not line.lstrip().startswith("python") else line
        found += [f"{name}:{i}: {what}" for pattern, what in SHELL_PATTERNS if pattern.search(code)]
    return found


def scan(root: Path = ROOT) -> list[str]:
    found = []
    for folder in SCANNED:
        for p in sorted((root / folder).rglob("*")):
            if not p.is_file() or "__pycache__" in p.parts:
                continue
            name = str(p.relative_to(root))
            if p.suffix == ".py":
                found += scan_python(p.read_text(encoding="utf-8"), name)
            elif p.suffix in (".sh", ".bash") or p.read_bytes()[:2] == b"#!":
                found += scan_shell(p.read_text(encoding="utf-8", errors="replace"), name)
    return found


def test_no_unsafe_loading_in_the_code_base() -> None:
    found = scan()
    assert not found, "code that can execute a pickle:\n" + "\n".join(found)


@pytest.mark.parametrize(("code", "what"), [
    ("import torch\nm = torch.load('x.pt')\n", "torch.load"),
    ("import torch as T\nm = T.load('x.pt', weights_only=False)\n", "torch.load"),
    ("from torch import load\nm = load('x.pt')\n", "torch.load"),
    ("import torch\nm = torch.serialization.load('x.pt')\n", "torch.load"),
    ("import pickle\n", "import pickle"),
    ("from pickle import loads\n", "from pickle"),
    ("import joblib\n", "import joblib"),
    ("import numpy as np\nnp.load('a.npz', allow_pickle=True)\n", "allow_pickle"),
    ("import numpy as np\nflag = True\nnp.load('a.npz', allow_pickle=flag)\n", "allow_pickle"),
    ("import pandas as pd\npd.read_pickle('a.pkl')\n", "read_pickle"),
])
def test_the_scanner_finds_each_construct(code: str, what: str) -> None:
    found = scan_python(code, "m.py")
    assert found and what in found[0] and found[0].startswith("m.py:")


@pytest.mark.parametrize("code", [
    "import torch\nm = torch.load('x.pt', weights_only=True)\n",
    '"""Checkpoints hold no pickle."""\n# pickle is never used\n',
    "import numpy as np\nnp.load('a.npz', allow_pickle=False)\n",
    "import numpy as np\nnp.load('a.npz')\n",
])
def test_the_scanner_accepts_safe_code(code: str) -> None:
    assert scan_python(code, "m.py") == []


def test_the_scanner_reads_shell_scripts() -> None:
    assert scan_shell("python -c \"import torch; torch.load('a')\"\n", "s.sh") == [
        "s.sh:1: torch.load without weights_only=True"]
    assert scan_shell("# we never import pickle here\necho ok\n", "s.sh") == []
