"""Hook implementations of omegacore-pandas-dfrows (imports no pandas)."""

from __future__ import annotations

from omegacore import FileFormat, FileOption, KindSpec, MixinSpec, hookimpl

_FRAMES = ("pandas.DataFrame", "pandas.Series",
           "pandas.core.frame.DataFrame", "pandas.core.series.Series")
_FILES = "omegacore_pandas_dfrows.files"
_INDEX = FileOption("index-col", "column(s) to use as the index, comma-separated")
_DATES = FileOption("parse-dates",
                    "date columns: auto (ISO 8601 columns, the default), none, or col1,col2")


@hookimpl
def omega_kinds() -> list[KindSpec]:
    return [
        KindSpec(
            "pandas.dfrows",
            "omegacore_pandas_dfrows.backend:DataFrameRowsBackend",
            # pandas 3 reports the classes as pandas.DataFrame / pandas.Series
            types=("pandas.DataFrame", "pandas.Series",
                   "pandas.core.frame.DataFrame", "pandas.core.series.Series"),
            priority=50,
            description="DataFrames and Series as one document per row, queryable",
        ),
        KindSpec(
            "pandas.serows",
            "omegacore_pandas_dfrows.backend:SeriesRowsBackend",
            types=("pandas.Series", "pandas.core.series.Series"),
            # above pandas.dfrows: a Series is stored as omegaml stores it
            priority=51,
            description="Series as one document per row, queryable (omegaml's layout)",
        ),
    ]


@hookimpl
def omega_mixins() -> list[MixinSpec]:
    return [
        MixinSpec(
            "omegacore_pandas_dfrows.mixin:DataFrameRowsMixin",
            description="put_dataframe_as_documents, get_dataframe_documents",
        )
    ]


@hookimpl
def omega_file_formats() -> list[FileFormat]:
    """CSV (also compressed), tab-separated, Parquet and Excel files hold DataFrames."""
    return [
        FileFormat((".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zip"), "pandas.dfrows",
                   reader=f"{_FILES}:read_csv", writer=f"{_FILES}:write_csv", types=_FRAMES,
                   text=True, options=(_INDEX, _DATES),
                   description="comma-separated values, header line first"),
        FileFormat((".tsv",), "pandas.dfrows", reader=f"{_FILES}:read_tsv",
                   writer=f"{_FILES}:write_tsv", types=_FRAMES, text=True,
                   options=(_INDEX, _DATES), description="tab-separated values"),
        FileFormat((".parquet", ".pq"), "pandas.dfrows", reader=f"{_FILES}:read_parquet",
                   writer=f"{_FILES}:write_parquet", types=_FRAMES, requires=("pyarrow",),
                   install='pip install "omegacore-pandas-dfrows[parquet]"',
                   description="Apache Parquet (index and dtypes kept)"),
        FileFormat((".xlsx",), "pandas.dfrows", reader=f"{_FILES}:read_excel",
                   writer=f"{_FILES}:write_excel", types=_FRAMES, requires=("openpyxl",),
                   install='pip install "omegacore-pandas-dfrows[excel]"',
                   options=(_INDEX, _DATES,
                            FileOption("sheet", "sheet name (default: the first)", "both")),
                   description="Excel workbook, one sheet"),
    ]
