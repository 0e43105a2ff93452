"""Errors of chuzhi-graph.

Every error the library raises on purpose is a :class:`ChuzhiError`. Subclasses carry
where the problem is (file, line or row, field) so that the CLI can print one clear
message and pick the exit code. Only :mod:`chuzhi_graph.cli` turns them into Click errors.

Exit codes (see README, "Exit codes"; tests/test_exit_codes.py checks that the two agree):

==== =====================================================
code meaning
==== =====================================================
0    success
1    unexpected internal error (a bug: please report it)
2    usage error (bad option or argument; Click's own code; :class:`UsageError`, :class:`QueryUsageError`)
3    input data error (:class:`DataError`, :class:`SourceError`; :class:`NotBuiltError`, :class:`StaleBuildError`)
4    validation error: the graph breaks the SHACL shapes (:class:`ValidationError`)
5    query error (:class:`QueryError`: syntax, refused, timeout, memory bound)
6    output error (:class:`OutputError`: cannot write)
7    environment error (:class:`EnvironmentProblem`: font, browser, server; :class:`MemoryBudgetError`: memory)
130  interrupted (Ctrl-C; :class:`Interrupted`)
==== =====================================================
"""

from __future__ import annotations

from pathlib import Path

#: Each exit code with its meaning as ``chuzhi-graph --help`` lists it; the README's table begins
#: each row with these words (tests/test_docs.py) and says more.
EXIT_CODES: dict[int, str] = {
    0: "success",
    1: "unexpected internal error (a bug)",
    2: "usage error",
    3: "input data error",
    4: "the graph does not conform to the SHACL shapes",
    5: "query error",
    6: "output cannot be written",
    7: "something outside is missing",
    130: "interrupted (Ctrl-C)",
}


class ChuzhiError(Exception):
    """Base class of the errors chuzhi-graph raises on purpose.

    >>> str(ChuzhiError("boom", file="data/cases.csv", line=3, field="title_zh"))
    'data/cases.csv, line 3, field title_zh: boom'
    """

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        super().__init__(str(self))

    def location(self) -> str:
        """Where the problem is, as ``file, line N, field F`` (parts that are known)."""
        parts = []
        if self.file:
            parts.append(self.file)
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.field:
            parts.append(f"field {self.field}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.location()
        return f"{where}: {self.message}" if where else self.message


class DataError(ChuzhiError):
    """A record file is missing, unreadable or holds a bad value."""

    exit_code = 3


class SourceError(ChuzhiError):
    """A source document (press release) cannot be read or does not hold what is expected."""

    exit_code = 3


class ValidationError(ChuzhiError):
    """The mapped graph does not conform to the SHACL shapes."""

    exit_code = 4

    def __init__(self, message: str, *, report: str = "", **where: object) -> None:
        self.report = report
        super().__init__(message, **where)  # type: ignore[arg-type]


class QueryError(ChuzhiError):
    """A SPARQL query is malformed, refused or ran too long."""

    exit_code = 5


class UsageError(ChuzhiError):
    """A command asked for wrongly: an option or argument the library cannot use (exit 2, as Click's own).

    E.g. an unknown edition in a view filter, or a format a view cannot be drawn in.
    """

    exit_code = 2


class QueryUsageError(UsageError, QueryError):
    """A query asked for wrongly: an unknown shipped name, a missing or unknown parameter (exit 2)."""

    exit_code = 2


class NotBuiltError(DataError):
    """Nothing was built yet in the output folder: every command that reads the build says so (exit 3)."""


class StaleBuildError(NotBuiltError):
    """The built graph is not the build asked for: made by another version, from other records or
    ontology, without validation, or changed since (``publish -g``): build again (exit 3)."""


class OutputError(ChuzhiError):
    """An output file or folder cannot be written."""

    exit_code = 6


class EnvironmentProblem(ChuzhiError):
    """Something outside the project is missing: a font, a browser, a server."""

    exit_code = 7


class MemoryBudgetError(EnvironmentProblem):
    """The record tables would need more memory to build than the process may use (exit 7)."""


class Interrupted(ChuzhiError):
    """The command was interrupted (Ctrl-C, SIGINT): exit 130, as a shell reports it (128 + 2)."""

    exit_code = 130


def printable(text: str) -> str:
    r"""``text`` with every character a terminal would act on (controls, escape sequences,
    bidirectional overrides; not line breaks) written as an escape: a message shows what is there.

    >>> printable("bad \x1b[2J title\u202e")
    'bad \\x1b[2J title\\u202e'
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == "\n" else ascii(ch)[1:-1] for ch in text)
