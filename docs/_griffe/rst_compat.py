"""Griffe extension: make xpnet's reStructuredText-flavoured docstrings render as Markdown.

xpnet's docstrings are written to read well in ``help()``: NumPy-style sections with
``name: description`` items, Sphinx roles (``:func:`backward```) and RST simple tables. The API
reference is built by mkdocstrings, which expects Markdown, so at build time (never at import
time) this extension rewrites each docstring's text:

* ``:func:`name```, ``:class:`~pkg.Name```, ... become autorefs links (``[`name`][pkg.mod.name]``)
  when the target is a documented public object of the loaded package, else inline code; a
  link whose target is not rendered on any page makes ``mkdocs build --strict`` fail;
* ``name: description`` items in Parameters/Returns/Raises/Attributes sections become NumPy
  items (name on its own line, description indented) so the description is not lost;
* RST simple tables (``=====  =====`` borders) become Markdown tables;
* RST definition lists (a term line directly followed by an indented description) outside the
  NumPy sections become Markdown definition lists (``def_list``);
* ``::`` at the end of a paragraph becomes ``:`` (the indented block after it stays code).

The source files are not changed.
"""

from __future__ import annotations

import re

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|exc|obj|const):`(~?)([^`<]+?)`")
_SECTION = re.compile(r"^(\s*)(Parameters|Other Parameters|Returns|Yields|Raises|Attributes|Warns)\s*$")
_COLON_ITEM = re.compile(r"^(?P<names>\*{0,2}[A-Za-z_][\w.]*(?:,\s*\*{0,2}[A-Za-z_][\w.]*)*):[ \t]+(?P<text>\S.*)$")
_BORDER = re.compile(r"^\s*=+(?: +=+)+\s*$")


class RstCompat(griffe.Extension):
    """Rewrite RST-isms in every docstring of the loaded package (see the module docstring)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs) -> None:
        self.pkg = pkg
        self._walk(pkg, seen=set())

    # -- traversal ---------------------------------------------------------------------------
    def _walk(self, obj, seen) -> None:
        if obj.path in seen or obj.is_alias:
            return
        seen.add(obj.path)
        if obj.docstring is not None:
            obj.docstring.value = self.convert(obj.docstring.value, obj)
        for member in obj.members.values():
            if not member.is_alias:
                self._walk(member, seen)

    # -- conversion --------------------------------------------------------------------------
    def convert(self, text: str, obj) -> str:
        lines = text.split("\n")
        lines = _tables(lines)
        lines = _definition_lists(lines)
        lines = _colon_items(lines)
        text = "\n".join(lines)
        text = re.sub(r"(\S)::\n", r"\1:\n", text)
        return _ROLE.sub(lambda m: self._role(m, obj), text)

    def _role(self, match, obj) -> str:
        tilde, target = match.group(1), match.group(2).strip().rstrip("()")
        display = target.rsplit(".", 1)[-1] if tilde else target
        path = self._resolve(target, obj)
        return f"[`{display}`][{path}]" if path else f"`{display}`"

    def _resolve(self, target: str, obj) -> str | None:
        scopes = []
        scope = obj
        while scope is not None:
            scopes.append(scope.path)
            scope = scope.parent
        candidates = [target] + [f"{s}.{target}" for s in scopes]
        for cand in candidates:
            found = self._lookup(cand)
            if found is not None:
                return found
        return None

    def _lookup(self, path: str) -> str | None:
        if path != self.pkg.path and not path.startswith(self.pkg.path + "."):
            return None
        parts = path.split(".")[1:]
        obj = self.pkg
        try:
            for part in parts:
                obj = obj.members[part]
            if obj.is_alias:
                obj = obj.final_target
        except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
            return None
        if any(p.startswith("_") and not p.startswith("__") for p in obj.path.split(".")):
            return None  # private objects are not rendered: link nothing
        if not obj.is_module and not obj.docstring:
            return None  # undocumented members are not rendered either (show_if_no_docstring)
        return obj.path


def _colon_items(lines: list[str]) -> list[str]:
    """``name: text`` items in NumPy sections -> ``name`` + indented ``text`` (``name:`` for returns)."""
    out: list[str] = []
    i = 0
    section = None
    indent = None
    while i < len(lines):
        line = lines[i]
        m = _SECTION.match(line)
        if m and i + 1 < len(lines) and re.fullmatch(r"\s*-{3,}\s*", lines[i + 1]):
            section, indent = m.group(2), m.group(1)
            out += [line, lines[i + 1]]
            i += 2
            continue
        if section is not None:
            if line.strip() and not line.startswith(indent):
                section = None
            elif line.strip() and line[len(indent):len(indent) + 1] not in (" ", "\t"):
                item = _COLON_ITEM.match(line[len(indent):])
                if item:
                    names, rest = item.group("names"), item.group("text")
                    head = f"{names}:" if section in ("Returns", "Yields") else names
                    out += [indent + head, indent + "    " + rest]
                    i += 1
                    continue
        out.append(line)
        i += 1
    return out


def _tables(lines: list[str]) -> list[str]:
    """RST simple tables -> Markdown tables."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not _BORDER.match(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        border = lines[i]
        starts = [m.start() for m in re.finditer(r"=+", border)]
        borders = [i]
        j = i + 1
        while j < len(lines) and len(borders) < 3:
            if _BORDER.match(lines[j]):
                borders.append(j)
                if j + 1 >= len(lines) or not lines[j + 1].strip():
                    break
            elif not lines[j].strip():
                break
            j += 1
        if len(borders) < 2:
            out.append(lines[i])
            i += 1
            continue
        end = borders[-1]
        body = [ln for k, ln in enumerate(lines[i:end + 1], start=i) if k not in borders]
        header_rows = 0
        if len(borders) == 3:
            header_rows = sum(1 for k in range(borders[0] + 1, borders[1]))
        rows: list[list[str]] = []
        for k, ln in enumerate(body):
            cells = _split_row(ln, starts)
            if rows and not cells[0] and k != header_rows:
                rows[-1] = [f"{p} {c}".strip() for p, c in zip(rows[-1], cells)]
            else:
                rows.append(cells)
        def fmt(cells):
            return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
        indent = re.match(r"\s*", border).group(0)
        if header_rows:
            head, rest = rows[0], rows[1:]
        else:
            head, rest = [""] * len(starts), rows
        table = [fmt(head), "| " + " | ".join("---" for _ in starts) + " |"] + [fmt(r) for r in rest]
        if out and out[-1].strip():
            out.append("")
        out += [indent + t for t in table]
        out.append("")
        i = end + 1
        if i < len(lines) and not lines[i].strip():
            i += 1
    return out


def _split_row(line: str, starts: list[int]) -> list[str]:
    """Cut a table row at the column starts; text overflowing a column pushes the cut to the
    next run of two spaces (RST would reject such a row, ``help()`` shows it fine)."""
    cuts = [starts[0]]
    for b in starts[1:]:
        b = max(b, cuts[-1])
        if b < len(line) and line[b - 1] != " ":
            gap = line.find("  ", b)
            b = len(line) if gap < 0 else len(line) - len(line[gap:].lstrip(" "))
        cuts.append(b)
    return [line[a:b].strip() for a, b in zip(cuts, cuts[1:] + [None])]


_NUMPY_SECTIONS = {"Parameters", "Other Parameters", "Returns", "Yields", "Receives", "Raises",
                   "Warns", "Attributes", "Methods", "Examples", "Notes", "See Also", "References",
                   "Warnings"}


def _is_header(lines: list[str], i: int) -> bool:
    return (i + 1 < len(lines) and bool(lines[i].strip())
            and re.fullmatch(r"\s*-{3,}\s*", lines[i + 1]) is not None)


def _definition_lists(lines: list[str]) -> list[str]:
    """``term`` + lines indented 4 more (outside NumPy sections) -> ``term`` + ``:   text``."""
    out: list[str] = []
    in_numpy_section = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if _is_header(lines, i):
            in_numpy_section = line.strip() in _NUMPY_SECTIONS
            out += [line, lines[i + 1]]
            i += 2
            continue
        indent = len(line) - len(line.lstrip(" "))
        body = indent + 4
        is_term = (
            not in_numpy_section
            and line.strip()
            and not line.rstrip().endswith(":")
            and not line.lstrip().startswith((">>>", "* ", "- "))
            and (not out or not out[-1].strip() or out[-1].startswith(" " * body) or out[-1].lstrip().startswith(":   "))
            and i + 1 < len(lines)
            and lines[i + 1].strip()
            and len(lines[i + 1]) - len(lines[i + 1].lstrip(" ")) == body
        )
        if not is_term:
            out.append(line)
            i += 1
            continue
        if out and out[-1].strip():
            out.append("")  # def_list wants a blank line before each term
        out.append(line)
        first = True
        i += 1
        while i < len(lines) and lines[i].strip() and lines[i].startswith(" " * body):
            text = lines[i][body:]
            out.append(" " * indent + (":   " if first else "    ") + text)
            first = False
            i += 1
    return out
