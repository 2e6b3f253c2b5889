"""Export of analytics tables: one Excel workbook (a sheet per table) or a folder of CSV files.

Headers are bilingual ("中文 English") so that a table opened by itself says what it holds; lists
(order ids, terms) are joined with "; ". CSV files are UTF-8 with a byte-order mark, which Excel
needs to show Chinese correctly.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from citycheck.io.errors import InputError
from citycheck.io.hotline_folder import write_table_folder
from citycheck.labels import labels_under

__all__ = ["COLUMN_LABELS", "bilingual_columns", "export_tables", "prepare_tables"]

#: Column -> (zh, en) for the columns the analytics tables share.
COLUMN_LABELS: dict[str, tuple[str, str]] = labels_under("hotline.column")


def bilingual_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Rename known columns to "中文 English" (rate bounds as "… 下限 lower" / "… 上限 upper")."""
    names = {}
    for c in df.columns:
        base, suffix = c, ""
        for s, zh, en in (
            ("_lo", "下限", "lower"),
            ("_hi", "上限", "upper"),
            ("_n", "样本量", "n"),
        ):
            if c.endswith(s) and c[: -len(s)] in COLUMN_LABELS:
                base, suffix = c[: -len(s)], f"|{zh}|{en}"
        if base in COLUMN_LABELS:
            zh, en = COLUMN_LABELS[base]
            if suffix:
                _, szh, sen = suffix.split("|")
                names[c] = f"{zh}{szh} {en} {sen}"
            else:
                names[c] = f"{zh} {en}"
    return df.rename(columns=names)


def _flat(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if out[c].map(lambda v: isinstance(v, list | tuple)).any():
            out[c] = out[c].map(
                lambda v: "; ".join(map(str, v)) if isinstance(v, list | tuple) else v
            )
        if isinstance(out[c].dtype, pd.PeriodDtype):
            out[c] = out[c].astype(str)
        if isinstance(out[c].dtype, pd.DatetimeTZDtype):
            out[c] = out[c].dt.tz_localize(None)
    return out


def prepare_tables(
    tables: dict[str, pd.DataFrame], *, bilingual: bool = True
) -> dict[str, pd.DataFrame]:
    """The tables as written: lists joined with "; ", periods as text, times without zone, and
    (with ``bilingual``) bilingual headers (:func:`bilingual_columns`)."""
    return {
        name: (bilingual_columns(_flat(df)) if bilingual else _flat(df))
        for name, df in tables.items()
    }


def export_tables(
    tables: dict[str, pd.DataFrame], path: str | os.PathLike[str], *, bilingual: bool = True
) -> list[Path]:
    """Write every table to ``path``: ``.xlsx`` -> one workbook, anything else -> a folder.

    Parameters
    ----------
    tables : dict
        Sheet/file name -> table.
    path : path-like
        ``something.xlsx``, or a folder (created) that receives ``<name>.csv`` files.
    bilingual : bool
        Bilingual headers (:func:`bilingual_columns`).

    Returns
    -------
    list of Path
        Files written.
    """
    p = Path(path)
    prepared = prepare_tables(tables, bilingual=bilingual)
    if p.suffix.lower() == ".xlsx":
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(".xlsx.part")
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            for name, df in prepared.items():
                df.to_excel(xw, sheet_name=name[:31], index=False)
        tmp.replace(p)
        return [p]
    if p.suffix:
        raise InputError(p, "path", str(p), "export to a .xlsx file or to a folder")
    return write_table_folder(prepared, p)
