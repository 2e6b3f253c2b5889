"""Errors for bad input: each names the file, the field and the offending value."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["InputError", "InputProblem", "InputProblems"]


class InputError(ValueError):
    """One problem with an input file.

    Parameters
    ----------
    path : path-like or str
        The file (or a description of the input when it is not a file).
    field : str
        The field, column or layer at fault.
    value : object
        The offending value.
    reason : str
        What is wrong and, where possible, how to fix it.
    """

    def __init__(self, path: str | os.PathLike[str], field: str, value: object, reason: str):
        self.path = str(path)
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{self.path}: {field}={value!r}: {reason}")


@dataclass(frozen=True)
class InputProblem:
    """One problem found while validating a table: where (row, field), what value, why."""

    row: int | None
    field: str
    value: object
    reason: str

    def __str__(self) -> str:
        where = f"row {self.row}, " if self.row is not None else ""
        return f"{where}{self.field}={self.value!r}: {self.reason}"


class InputProblems(ValueError):
    """Every problem found in one input file, collected into one error."""

    def __init__(self, path: str | os.PathLike[str], problems: Sequence[InputProblem]):
        self.path = str(path)
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = f"\n  … and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(f"{self.path}: {len(self.problems)} problem(s):\n{lines}{more}")
