"""README.md shows only what works: every command, Python block, name and link in it is checked.

* Every ``xpnet ...`` command line — in a ```bash block or inline in the prose — is checked
  against the real click command: the subcommand exists, every option shown is one of its
  options, a value given to a ``Choice`` option is one of its choices, and a block's command
  has as many arguments as the command takes. Nothing is run (they download data or train).
* Every other program in a ```bash block must be one the project uses; ``pip install`` extras
  must exist in ``pyproject.toml``; ``python -m MODULE`` must be importable.
* Every ```python block compiles, every ``xpnet`` name it imports or spells out resolves, and
  every keyword it passes to an ``xpnet`` callable is one of its parameters; then it is
  executed, with the data loaders swapped for small data (``load_dataset`` would download
  MNIST) — except blocks that need a GPU, which are only checked.
* Every inline ``xpnet.name`` in the prose resolves, and every relative link (and its
  ``#anchor``) points at a file (and a heading) that exists.
* The two set-up lines are there exactly as CI (``.ci/run``) runs them, and the page is short.
"""

from __future__ import annotations

import ast
import inspect
import re
import shlex
import warnings
from pathlib import Path

import click
import numpy as np
import pytest

from .test_docs import _NeedsExtra, _resolve

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
MAX_LINES = 150
SETUP_LINES = ("pip install . && xpnet train", 'pip install ".[test]" && python -m pytest')

FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
INLINE = re.compile(r"`([^`]+)`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
DOTTED = re.compile(r"^xpnet(?:\.\w+)+")
PROGRAMS = {"xpnet", "pip", "python", "ruff", "mypy", "mkdocs", "pytest"}
NEEDS_GPU = re.compile(r"""["'](?:gpu|cuda(?::\d+)?|cupy)["']|\bimport cupy\b""")


# ---------------------------------------------------------------------------- reading the page


def _text(path: Path = README) -> str:
    return path.read_text(encoding="utf-8")


def _blocks(text: str, *langs: str) -> list[tuple[int, str, str]]:
    """(line number, language, code) of every fenced block in ``langs``."""
    return [
        (text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2))
        for m in FENCE.finditer(text)
        if m.group(1) in langs
    ]


def _prose(text: str) -> str:
    return FENCE.sub("", text)


def _inline_spans(text: str) -> list[str]:
    """Inline code of the prose, wrapped lines joined."""
    return [" ".join(span.split()) for span in INLINE.findall(_prose(text))]


def _shell_commands(code: str) -> list[tuple[int, list[str]]]:
    """(line offset, tokens) of each simple command of a shell block: comments dropped, lines
    ending in a backslash joined, split at ``&&``, ``||``, ``;`` and ``|``."""
    commands = []
    for offset, line in enumerate(code.replace("\\\n", " \n").splitlines()):
        current: list[str] = []
        for token in shlex.split(line.replace(" \n", " "), comments=True):
            if token in {"&&", "||", ";", "|"}:
                commands.append((offset, current))
                current = []
            else:
                current.append(token)
        commands.append((offset, current))
    return [(offset, _strip_environment(c)) for offset, c in commands if c]


def _strip_environment(tokens: list[str]) -> list[str]:
    """``A=1 env -u B xpnet ...`` -> ``xpnet ...``."""
    tokens = list(tokens)
    while tokens and re.fullmatch(r"[A-Za-z_]\w*=.*", tokens[0]):
        tokens.pop(0)
    if tokens and tokens[0] == "env":
        tokens.pop(0)
        while tokens and (tokens[0].startswith("-") or "=" in tokens[0]):
            if tokens.pop(0) in {"-u", "--unset"} and tokens:
                tokens.pop(0)  # the variable's name
    return tokens


# ---------------------------------------------------------------------------- xpnet commands


def _cli() -> click.Group:
    from xpnet.cli import cli

    return cli


def _option_names(command: click.Command) -> dict[str, click.Parameter]:
    names: dict[str, click.Parameter] = {"--help": None}
    for param in command.params:
        if isinstance(param, click.Option):
            for name in (*param.opts, *param.secondary_opts):
                names[name] = param
    return names


def _is_placeholder(value: str) -> bool:
    return any(c in value for c in "…<>$") or value in {"N", "P", "PATH", "OPTIONS", "S"}


def check_xpnet_command(args: list[str], *, complete: bool) -> list[str]:
    """What is wrong with ``xpnet ARGS`` (empty: nothing). ``complete``: a whole command line
    (a block's), whose arguments are counted too; an inline mention may leave them out."""
    problems: list[str] = []
    group = _cli()
    args = list(args)

    def take_options(command: click.Command, where: str) -> list[str]:
        names = _option_names(command)
        positional = []
        while args:
            token = args.pop(0)
            if token == "--help":
                return positional
            if not token.startswith("-") or re.fullmatch(r"-\d[\d.e-]*", token):
                if command is group:
                    args.insert(0, token)
                    return positional
                positional.append(token)
                continue
            name, eq, value = token.partition("=")
            if name not in names and re.fullmatch(r"-[A-Za-z]{2,}", name):  # -vv: -v -v
                unknown = [f"-{c}" for c in name[1:] if f"-{c}" not in names]
                if unknown:
                    problems.append(f"{where}: no option {name} ({', '.join(unknown)} unknown)")
                continue
            param = names.get(name, False)
            if param is False:
                known = ", ".join(sorted(n for n in names if n.startswith("--")))
                problems.append(f"{where}: no option {name}; it has {known}")
                continue
            takes_value = isinstance(param, click.Option) and not (param.is_flag or param.count)
            if takes_value and not eq:
                value = args.pop(0) if args else ""
            if takes_value and isinstance(param.type, click.Choice) and value and not _is_placeholder(value):
                if value not in param.type.choices:
                    problems.append(f"{where}: {name} {value!r} is not one of {list(param.type.choices)}")
        return positional

    take_options(group, "xpnet")
    if not args:
        return problems or (["xpnet: no command given"] if complete else [])
    name = args.pop(0)
    ctx = click.Context(group)
    command = group.get_command(ctx, name)
    if command is None:
        return [*problems, f"xpnet has no command {name!r}; it has {group.list_commands(ctx)}"]
    before = len(problems)
    positional = take_options(command, f"xpnet {name}")
    if len(problems) > before:  # an unknown option's value would pass for an argument
        return problems
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    most = None if any(p.nargs < 0 for p in arguments) else sum(p.nargs for p in arguments)
    least = sum(max(p.nargs, 1) for p in arguments if p.required)
    if most is not None and len(positional) > most:
        problems.append(f"xpnet {name} takes {most} argument(s), the README gives {positional}")
    if complete and len(positional) < least:
        problems.append(f"xpnet {name} needs {least} argument(s), the README gives {positional}")
    return problems


def _extras() -> set[str]:
    """The extras of pyproject.toml (read without tomllib, which Python 3.10 lacks)."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    section = text.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    return set(re.findall(r"^([\w-]+)\s*=", section, re.M))


def check_shell_command(tokens: list[str], *, complete: bool = True) -> list[str]:
    program, args = tokens[0], tokens[1:]
    if program not in PROGRAMS:
        return [f"{program!r} is not a program the project uses ({sorted(PROGRAMS)})"]
    if program == "xpnet":
        return check_xpnet_command(args, complete=complete)
    if program == "pip":
        if args[:1] != ["install"]:
            return [f"pip {' '.join(args)}: only `pip install` is shown"]
        problems = []
        for req in (a for a in args[1:] if not a.startswith("-")):
            m = re.fullmatch(r"(?P<name>[^\[\]]+)(?:\[(?P<extras>[^\]]*)\])?", req)
            if m is None:
                problems.append(f"pip install {req}: not a requirement")
            elif m["name"] in {".", "xpnet"} and m["extras"]:
                unknown = set(m["extras"].split(",")) - _extras()
                if unknown:
                    problems.append(f"pip install {req}: no extra {sorted(unknown)} in pyproject.toml")
        return problems
    if program == "python" and args[:1] == ["-m"]:
        import importlib.util

        module = args[1]
        if importlib.util.find_spec(module.split(".")[0]) is None:
            return [f"python -m {module}: no module {module}"]
    if program == "python" and args and args[0].endswith(".py") and not (REPO / args[0]).is_file():
        return [f"python {args[0]}: no such file"]
    return []


def _readme_commands() -> list[tuple[str, list[str], bool]]:
    """(where, tokens, complete) of every command the README shows."""
    text = _text()
    found = []
    for line, _, code in _blocks(text, "bash", "sh", "console", "shell"):
        for offset, tokens in _shell_commands(code):
            found.append((f"README.md:{line + 1 + offset}", tokens, True))
    for line, _, code in _blocks(text, "python", "py"):  # `# pip install "xpnet[sklearn]"`
        for offset, source in enumerate(code.splitlines()):
            for command in re.findall(r"#\s*((?:pip install|xpnet) [^#]+)", source):
                for _, tokens in _shell_commands(command):
                    found.append((f"README.md:{line + 1 + offset} comment", tokens, False))
    for span in _inline_spans(text):
        if re.match(r"(xpnet|pip|python -m) ", span) or span == "xpnet":
            for _, tokens in _shell_commands(span):
                found.append((f"README.md inline `{span}`", tokens, False))
    return found


def test_every_command_in_the_readme_exists_with_the_options_it_shows():
    commands = _readme_commands()
    assert sum(tokens[0] == "xpnet" for _, tokens, _ in commands) >= 8, "the README lost its xpnet commands"
    problems = [
        f"{where}: {p}" for where, tokens, complete in commands for p in check_shell_command(tokens, complete=complete)
    ]
    assert not problems, "\n".join(problems)


def test_the_readme_shows_the_setup_commands_ci_runs():
    text = _text()
    bash = "\n".join(code for _, _, code in _blocks(text, "bash"))
    lines = [line.split("#")[0].strip() for line in bash.splitlines()]
    for setup in SETUP_LINES:
        assert setup in lines, f"README.md lost the line `{setup}` (CI runs exactly this)"
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    test_command = SETUP_LINES[1].split("&&")[1].strip()  # python -m pytest
    assert re.search(rf"^{re.escape(test_command)}$", ci, re.M), f".ci/run no longer runs `{test_command}`"
    assert re.search(r'pip install .*"\.\[test[,\]]', ci), ".ci/run no longer installs the test extra"


def test_the_readme_is_a_short_page():
    n = len(_text().splitlines())
    assert n <= MAX_LINES, f"README.md has {n} lines; measurements and details belong in docs/ (at most {MAX_LINES})"


# ---------------------------------------------------------------------------- Python


def _python_blocks() -> list[tuple[int, str, str]]:
    return _blocks(_text(), "python", "py")


class _Names(ast.NodeVisitor):
    """The xpnet names a block uses: imports, ``xpnet.a.b`` chains, and keyword arguments of
    calls to them."""

    def __init__(self):
        self.names: set[str] = set()
        self.calls: list[tuple[str, list[str]]] = []
        self.aliases: dict[str, str] = {}

    def visit_Import(self, node):
        for alias in node.names:
            if alias.name.split(".")[0] == "xpnet":
                self.names.add(alias.name)
                if alias.asname:  # import xpnet.backend as b
                    self.aliases[alias.asname] = alias.name
                else:  # import xpnet.backend binds xpnet
                    self.aliases["xpnet"] = "xpnet"

    def visit_ImportFrom(self, node):
        if node.module and node.module.split(".")[0] == "xpnet" and not node.level:
            for alias in node.names:
                self.names.add(f"{node.module}.{alias.name}")
                self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def dotted(self, node) -> str | None:
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name) and node.id in self.aliases:
            return ".".join([self.aliases[node.id], *reversed(parts)])
        return None

    def visit_Attribute(self, node):
        name = self.dotted(node)
        if name:
            self.names.add(name)
        else:
            self.generic_visit(node)

    def visit_Call(self, node):
        name = self.dotted(node.func)
        if name:
            self.calls.append((name, [k.arg for k in node.keywords if k.arg]))
        self.generic_visit(node)


def check_python_names(code: str) -> list[str]:
    tree = ast.parse(code)
    names = _Names()
    names.visit(tree)
    problems = []
    for name in sorted(names.names):
        try:
            _resolve(name)
        except _NeedsExtra:
            continue
        except (ImportError, AttributeError) as exc:
            problems.append(f"{name} does not exist ({exc})")
    for name, keywords in names.calls:
        try:
            obj = _resolve(name)
            signature = inspect.signature(obj)
        except (_NeedsExtra, ImportError, AttributeError, TypeError, ValueError):
            continue
        params = signature.parameters.values()
        if any(p.kind is p.VAR_KEYWORD for p in params):
            continue
        unknown = [k for k in keywords if k not in signature.parameters]
        if unknown:
            problems.append(f"{name}() has no parameter {unknown}; it has {list(signature.parameters)}")
    return problems


@pytest.mark.parametrize("line, lang, code", [pytest.param(*b, id=f"line{b[0]}") for b in _python_blocks()])
def test_every_python_block_names_what_exists(line, lang, code):
    compile(code, f"README.md:{line}", "exec")
    problems = check_python_names(code)
    assert not problems, f"README.md:{line}: " + "; ".join(problems)


def test_every_xpnet_name_in_the_prose_exists():
    names = {m.group(0) for span in _inline_spans(_text()) if (m := DOTTED.match(span))}
    assert names, "the README names no xpnet function: did the regex break?"
    problems = []
    for name in sorted(names):
        try:
            _resolve(name)
        except _NeedsExtra:
            continue
        except (ImportError, AttributeError) as exc:
            problems.append(f"`{name}` does not exist ({exc})")
    assert not problems, "\n".join(problems)


def _small_mnist(*args, **kwargs):
    """What ``load_dataset`` returns, on 320 random images instead of a download."""
    from xpnet.datasets import Dataset

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(320, 784), dtype=np.uint8)
    y = rng.integers(0, 10, size=320).astype(np.int64)
    return Dataset("mnist", x[:256], y[:256], x[256:], y[256:])


@pytest.mark.parametrize("line, lang, code", [pytest.param(*b, id=f"line{b[0]}") for b in _python_blocks()])
def test_every_python_block_runs(line, lang, code, tmp_path, monkeypatch):
    if NEEDS_GPU.search(code):
        pytest.skip("needs a GPU: its names are checked by test_every_python_block_names_what_exists")
    import xpnet.datasets

    monkeypatch.setattr(xpnet.datasets, "load_dataset", _small_mnist)
    if "sklearn" in code:
        datasets = pytest.importorskip("sklearn.datasets")
        digits = datasets.load_digits

        def few_digits(*args, **kwargs):
            X, y = digits(*args, **kwargs)
            return X[:240], y[:240]

        monkeypatch.setattr(datasets, "load_digits", few_digits)
    monkeypatch.chdir(tmp_path)  # the blocks write files (model.npz)
    with warnings.catch_warnings():  # 30 epochs on few digits: not converged, and it says so
        warnings.filterwarnings("ignore", message="Stochastic Optimizer: Maximum iterations")
        exec(compile(code, f"README.md:{line}", "exec"), {"__name__": "__readme__"})


# ---------------------------------------------------------------------------- links


def _slug(heading: str) -> str:
    """The anchor mkdocs (Python-Markdown's toc) gives a heading."""
    import unicodedata

    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"[`*_]", "", text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _anchors(path: Path) -> set[str]:
    text = _prose(_text(path))
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*$", text, re.M)}


def check_links(text: str, base: Path) -> list[str]:
    problems = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (base / path).resolve() if path else README
        if not file.exists():
            problems.append(f"{target}: no such file {file.relative_to(REPO) if file.is_relative_to(REPO) else file}")
        elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
            problems.append(f"{target}: {file.name} has no heading #{anchor}")
    return problems


def test_every_link_in_the_readme_points_at_something_that_exists():
    text = _text()
    assert len(LINK.findall(text)) >= 14, "the README lost its links to the docs"
    problems = check_links(text, README.parent)
    assert not problems, "\n".join(problems)


def test_the_readme_links_every_docs_page_a_newcomer_needs():
    links = {t.partition("#")[0] for t in LINK.findall(_text())}
    pages = "getting-started cli math backends accuracy benchmarks images serve sklearn export logs architecture testing notebooks"
    missing = [p for p in pages.split() if f"docs/{p}.md" not in links]
    assert not missing, f"README.md does not link docs/{missing}"
