#!/usr/bin/env python3
"""Move the modules of ``ops_checks`` into their layer folders and rewrite every reference (issue 14, part 3).

A repeatable codemod: the mapping is ``scripts/relayer_map.toml`` (old dotted path → new dotted path, for every
module and package under ``ops_checks``). Run from the repository root on a clean tree::

    python3 scripts/relayer.py            # move, rewrite, sort imports; then review `git status` and commit
    python3 scripts/relayer.py --check    # only list the modules the mapping does not know (exit 1 if any)

What it does:
1. fails, listing them, when a module under ``ops_checks`` is neither in the mapping (as an old or a new name)
   nor under a package that stays (``[stay]``): add new files from other branches to the mapping first;
2. ``git mv`` each module whose old file still exists to its new file; a package entry takes its ``__init__.py``
   and its data files (non-.py files beside it) along; new packages get an ``__init__.py`` with the docstring
   of ``[packages]``; the files of ``[files]`` are created when missing;
3. rewrites, in every tracked text file (ops_checks/, tests/, benchmarks/, scripts/, docs, README, pyproject,
   Makefile, ini files): ``from ops_checks.a import b`` statements anywhere in a module (module imports are
   regrouped by their new parent package, the bound name kept with ``as`` when the module's name changes;
   symbol imports follow their module), and then every other dotted name ``ops_checks.a.b…`` (``import`` lines,
   strings, monkeypatch targets, entry points, ``module:function``) and path ``ops_checks/a/b.py`` by the
   longest prefix the mapping knows. ``-m ops_checks.cli`` stays as written (the cli package has a ``__main__``);
4. sorts the imports of the touched Python files (``ruff check --fix --select I``).

Only entries whose old file still exists take part, so a second run is a no-op.
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import shutil
import subprocess
import sys
import tokenize
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAP_FILE = Path(__file__).with_name("relayer_map.toml")
PKG = "ops_checks"
TEXT_SUFFIXES = {".py", ".md", ".toml", ".ini", ".cfg", ".sh", ".txt", ".yml", ".yaml", ".feature", ".rst"}
TEXT_NAMES = {"Makefile"}
SELF = {Path(__file__).resolve(), MAP_FILE.resolve()}
DOTTED = re.compile(r"(?<![\w.])ops_checks(?:\.[A-Za-z_]\w*)+")
PYTHON_M = re.compile(r"-m[\"']?\s*,?\s*[\"']?$")
PATHLIKE = re.compile(r"(?<![\w/.])ops_checks((?:/[A-Za-z_]\w*)+)(\.py\b|\.[A-Za-z]+\b|/)?")


def use_map(path: Path) -> None:
    global MAP_FILE, SELF
    MAP_FILE = path.resolve()
    SELF = {Path(__file__).resolve(), MAP_FILE}


def load_map() -> dict:
    return tomllib.loads(MAP_FILE.read_text(encoding="utf-8"))


def module_file(dotted: str, root: Path = ROOT) -> Path | None:
    """The existing file of a dotted module name: a package's __init__.py, else the module's .py file."""
    rel = Path(*dotted.split("."))
    if (root / rel / "__init__.py").is_file():
        return root / rel / "__init__.py"
    if (root / rel.with_suffix(".py")).is_file():
        return root / rel.with_suffix(".py")
    return None


def all_modules(root: Path = ROOT) -> list[str]:
    names = []
    for path in sorted((root / PKG).rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def unmapped(cfg: dict) -> list[str]:
    modules = cfg["modules"]
    known = set(modules) | set(modules.values()) | set(cfg.get("packages", {})) | {PKG}
    known |= {str(Path(f).with_suffix("")).replace("/", ".").removesuffix(".__init__") for f in cfg.get("files", {})}
    stay = tuple(cfg.get("stay", {}).get("packages", []))
    return [m for m in all_modules() if m not in known and not any(m == s or m.startswith(s + ".") for s in stay)]


class Plan:
    """The active part of the mapping: the entries whose old module still exists where it was."""

    def __init__(self, cfg: dict) -> None:
        modules: dict[str, str] = cfg["modules"]
        self.active: dict[str, str] = {}
        self.is_package: dict[str, bool] = {}
        self.old_file: dict[str, Path] = {}
        values = set(modules.values())
        for old, new in modules.items():
            f = module_file(old)
            if any(v.startswith(old + ".") for v in values):  # the old name is a package of the new tree
                f = ROOT / Path(*old.split(".")).with_suffix(".py")  # so only the old module file counts
                f = f if f.is_file() else None
            if f is None:
                continue
            package = f.name == "__init__.py"
            # a module becomes a package's __init__ when other modules move under its new name (catalogue)
            new_is_package = package or any(v.startswith(new + ".") for v in values)
            new_file = (
                ROOT / Path(*new.split(".")) / "__init__.py"
                if new_is_package
                else ROOT / Path(*new.split(".")).with_suffix(".py")
            )
            if f.resolve() == new_file.resolve():
                continue
            self.active[old] = new
            self.is_package[old] = package
            self.old_file[old] = f
        self.new_file = {old: self._new_file(old, new, modules) for old, new in self.active.items()}
        self.new_names = set(modules.values()) | set(cfg.get("packages", {}))

    def _new_file(self, old: str, new: str, modules: dict[str, str]) -> Path:
        if self.is_package[old] or any(v.startswith(new + ".") for v in modules.values()):
            return ROOT / Path(*new.split(".")) / "__init__.py"
        return ROOT / Path(*new.split(".")).with_suffix(".py")

    def longest(self, parts: list[str]) -> tuple[int, str] | None:
        """The longest prefix of a dotted name that the plan moves: (its length in parts, its new name)."""
        for n in range(len(parts), 1, -1):
            key = ".".join(parts[:n])
            if key in self.active:
                return n, self.active[key]
            if key in self.new_names:  # already a new name (ops_checks.cli.app), so it stays
                return None
        return None


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout


def move(plan: Plan, cfg: dict) -> None:
    for old in plan.active:
        src, dst = plan.old_file[old], plan.new_file[old]
        dst.parent.mkdir(parents=True, exist_ok=True)
        git("mv", str(src.relative_to(ROOT)), str(dst.relative_to(ROOT)))
        if plan.is_package[old]:  # its data files follow it
            for data in sorted(src.parent.iterdir()):
                if data.is_file() and data.suffix != ".py" and git("ls-files", str(data.relative_to(ROOT))).strip():
                    git("mv", str(data.relative_to(ROOT)), str((dst.parent / data.name).relative_to(ROOT)))
                elif (
                    data.is_dir()
                    and data.name != "__pycache__"
                    and not (data / "__init__.py").exists()
                    and git("ls-files", str(data.relative_to(ROOT))).strip()
                ):
                    git("mv", str(data.relative_to(ROOT)), str((dst.parent / data.name).relative_to(ROOT)))
    for old in sorted(plan.active, key=lambda o: -o.count(".")):  # remove emptied package directories
        if plan.is_package[old]:
            d = plan.old_file[old].parent
            if d.is_dir() and all(p.name == "__pycache__" for p in d.iterdir()):
                shutil.rmtree(d)
    for name, doc in cfg.get("packages", {}).items():
        init = ROOT / Path(*name.split(".")) / "__init__.py"
        if not init.exists():
            init.parent.mkdir(parents=True, exist_ok=True)
            init.write_text(f'"""{doc}"""\n', encoding="utf-8")
            git("add", str(init.relative_to(ROOT)))
    for rel, text in cfg.get("files", {}).items():
        path = ROOT / rel
        if not path.exists() and path.parent.is_dir():
            path.write_text(text, encoding="utf-8")
            git("add", rel)


def rewrite_dotted(plan: Plan, text: str, keep_python_m: set[str]) -> str:
    def sub(m: re.Match[str]) -> str:
        parts = m.group(0).split(".")
        hit = plan.longest(parts)
        if hit is None:
            return m.group(0)
        n, new = hit
        if n == len(parts) and m.group(0) in keep_python_m:
            if PYTHON_M.search(text[max(0, m.start() - 40) : m.start()]):  # -m X, "-m", "X" (over lines too)
                return m.group(0)
        return ".".join([new, *parts[n:]])

    return DOTTED.sub(sub, text)


def rewrite_paths(plan: Plan, text: str) -> str:
    def sub(m: re.Match[str]) -> str:
        comps = [PKG, *m.group(1).strip("/").split("/")]
        ext = m.group(2) or ""
        if ext == ".py":
            key = ".".join(comps)
            if key in plan.active and not plan.is_package[key]:
                return str(plan.new_file[key].relative_to(ROOT))
        for n in range(len(comps), 1, -1):  # a directory: the longest package prefix
            key = ".".join(comps[:n])
            if key in plan.active and plan.is_package[key]:
                new_dir = plan.new_file[key].parent.relative_to(ROOT)
                rest = comps[n:]
                return "/".join([str(new_dir), *rest]) + ext
        return m.group(0)

    return PATHLIKE.sub(sub, text)


def rewrite_import(plan: Plan, node: ast.ImportFrom) -> list[tuple[str, list[str]]] | None:
    """The new statements of one ``from ops_checks… import …`` (None when nothing moves)."""
    groups: dict[str, list[str]] = {}
    changed = False
    for alias in node.names:
        full = f"{node.module}.{alias.name}"
        if full in plan.new_names and full not in plan.active:  # already a new module name
            groups.setdefault(node.module, []).append(alias.name + (f" as {alias.asname}" if alias.asname else ""))
        elif full in plan.active:  # a module imported from its package
            parent, leaf = plan.active[full].rsplit(".", 1)
            bound = alias.asname or alias.name
            groups.setdefault(parent, []).append(leaf if bound == leaf else f"{leaf} as {bound}")
            changed = True
        else:  # a name imported from a module
            hit = plan.longest(node.module.split("."))
            module = node.module
            if hit is not None:
                n, new = hit
                module = ".".join([new, *node.module.split(".")[n:]])
                changed = True
            groups.setdefault(module, []).append(alias.name + (f" as {alias.asname}" if alias.asname else ""))
    return list(groups.items()) if changed else None


def rewrite_python(plan: Plan, text: str, keep_python_m: set[str], path: Path) -> str:
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise SystemExit(f"relayer: cannot parse {path}: {exc}") from None
    line_starts = [0]
    for line in text.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))

    def offset(line: int, col: int) -> int:  # ast columns are UTF-8 byte offsets
        start = line_starts[line - 1]
        line_text = text[start : line_starts[line]]
        return start + len(line_text.encode("utf-8")[:col].decode("utf-8"))

    spans: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module
            and (node.module == PKG or node.module.startswith(PKG + "."))
        ):
            groups = rewrite_import(plan, node)
            if groups is None:
                continue
            start = offset(node.lineno, node.col_offset)
            end = offset(node.end_lineno or node.lineno, node.end_col_offset or 0)
            if "#" in text[start:end]:
                print(f"relayer: note: a comment inside the import at {path}:{node.lineno} is dropped", file=sys.stderr)
            indent = " " * node.col_offset
            line_end = text.find("\n", end)
            rest = text[end : line_end if line_end >= 0 else len(text)]
            comment = "  " + rest.strip() if rest.strip().startswith("#") else ""  # a noqa directive, say
            statements = [f"from {mod} import {', '.join(names)}" for mod, names in groups]
            new = ("\n" + indent).join([s + comment for s in statements[:-1]] + statements[-1:])
            spans.append((start, end, new))
    spans.sort()
    out, pos = [], 0
    for start, end, new in spans:
        out.append(rewrite_paths(plan, rewrite_dotted(plan, text[pos:start], keep_python_m)))
        out.append(new)
        pos = end
    out.append(rewrite_paths(plan, rewrite_dotted(plan, text[pos:], keep_python_m)))
    return "".join(out)


def line_length() -> int:
    try:
        cfg = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
        return int(cfg["tool"]["ruff"]["line-length"])
    except (OSError, KeyError, ValueError):
        return 88


def rewrap(before: str, after: str, limit: int) -> str:
    """Lines of docstrings and comments that the longer names pushed over the limit, wrapped at a space."""
    old_lines = set(before.splitlines())
    lines = after.splitlines(keepends=True)
    if not any(len(ln.rstrip("\n")) > limit and ln.rstrip("\n") not in old_lines for ln in lines):
        return after
    prose: set[int] = set()  # 1-based rows inside a multi-line string, or holding a comment
    try:
        for tok in tokenize.generate_tokens(io.StringIO(after).readline):
            if tok.type == tokenize.COMMENT:
                prose.add(tok.start[0])
            elif tok.type == tokenize.STRING and tok.end[0] > tok.start[0]:
                prose.update(range(tok.start[0], tok.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):
        return after
    out = []
    for row, ln in enumerate(lines, 1):
        body = ln.rstrip("\n")
        eol = ln[len(body) :]
        while row in prose and len(body) > limit and body not in old_lines:
            cut = body.rfind(" ", 0, limit + 1)
            indent = body[: len(body) - len(body.lstrip())]
            if cut <= len(indent):
                break
            lead = indent + ("# " if body.lstrip().startswith("#") else "")
            out.append(body[:cut].rstrip() + "\n")
            body = lead + body[cut + 1 :]
        out.append(body + eol)
    return "".join(out)


def text_files() -> list[Path]:
    files = []
    for rel in git("ls-files", "-z").split("\0"):
        if not rel:
            continue
        path = ROOT / rel
        if not path.is_file() or path.resolve() in SELF:
            continue
        if path.suffix in TEXT_SUFFIXES or path.name in TEXT_NAMES:
            files.append(path)
    return files


def ruff() -> list[str]:
    venv = ROOT / ".venv" / "bin" / "ruff"
    if venv.exists():
        return [str(venv)]
    if shutil.which("ruff"):
        return ["ruff"]
    return [sys.executable, "-m", "ruff"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only list modules the mapping does not know")
    parser.add_argument("--map", type=Path, default=MAP_FILE, help="the mapping (default: scripts/relayer_map.toml)")
    args = parser.parse_args()
    use_map(args.map)
    cfg = load_map()
    missing = unmapped(cfg)
    if missing:
        print(
            "relayer: these modules are not in scripts/relayer_map.toml [modules] (add them, old = new):",
            file=sys.stderr,
        )
        for m in missing:
            print(f"  {m}", file=sys.stderr)
        return 1
    if args.check:
        return 0
    plan = Plan(cfg)
    if not plan.active:
        print("relayer: nothing to move (already relayered)")
        return 0
    keep_python_m = set(cfg.get("keep", {}).get("python_m", []))
    move(plan, cfg)
    touched: list[Path] = []
    limit = line_length()
    for path in text_files():
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".py":
            new = rewrap(text, rewrite_python(plan, text, keep_python_m, path), limit)
        else:
            new = rewrite_paths(plan, rewrite_dotted(plan, text, keep_python_m))
        if new != text:
            path.write_text(new, encoding="utf-8")
            touched.append(path)
    py = [str(p.relative_to(ROOT)) for p in touched if p.suffix == ".py"]
    if py:
        subprocess.run([*ruff(), "check", "--fix", "--select", "I", "--quiet", *py], cwd=ROOT, check=False)
    git("add", "-A", PKG, *(str(p.relative_to(ROOT)) for p in touched))
    print(f"relayer: moved {len(plan.active)} modules, rewrote {len(touched)} files")
    left = unmapped(cfg)
    if left:
        print(f"relayer: still unmapped: {left}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
