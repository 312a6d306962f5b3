"""Write rows to a file as they come: JSON Lines, or Parquet in record batches (flat memory).

The file appears under its name only once complete: rows go to a temporary file beside
it, renamed at the end, so an interrupted export never leaves half a dataset.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.export.rows import json_line

ROWS_PER_BATCH = 2_000
COMPRESSION = "zstd"
STDOUT = "-"


class RowWriter(Protocol):
    """Where exported rows go."""

    def write(self, record: Mapping[str, Any], row: Callable[[], dict[str, Any]]) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...


class _AtomicFile:
    """A temporary file beside the target, renamed onto it when committed."""

    def __init__(self, target: Path) -> None:
        self.target = target
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
        self.temp = Path(name)

    def commit(self) -> None:
        self.temp.replace(self.target)

    def discard(self) -> None:
        self.temp.unlink(missing_ok=True)


class JsonlWriter:
    """One JSON object a line: the record as given."""

    def __init__(self, target: str) -> None:
        self._file: _AtomicFile | None = None
        if target == STDOUT:
            self._out: IO[bytes] = sys.stdout.buffer
        else:
            self._file = _AtomicFile(Path(target))
            self._out = self._file.temp.open("wb")

    def write(self, record: Mapping[str, Any], row: Callable[[], dict[str, Any]]) -> None:
        """Write one record."""
        self._out.write(json_line(record))

    def close(self) -> None:
        """Finish the file."""
        self._out.flush()
        if self._file is not None:
            self._out.close()
            self._file.commit()

    def abort(self) -> None:
        """Drop what was written."""
        if self._file is not None:
            self._out.close()
            self._file.discard()


class ParquetWriter:
    """Rows of a fixed schema, buffered ROWS_PER_BATCH at a time, one row group each."""

    def __init__(self, target: str, schema: pa.Schema) -> None:
        if target == STDOUT:
            raise ValueError("Parquet cannot be streamed to standard output: give a file")
        self._file = _AtomicFile(Path(target))
        self._schema = schema
        self._writer = pq.ParquetWriter(str(self._file.temp), schema, compression=COMPRESSION)
        self._rows: list[dict[str, Any]] = []

    def write(self, record: Mapping[str, Any], row: Callable[[], dict[str, Any]]) -> None:
        """Buffer one row; write a row group when the batch is full."""
        self._rows.append(row())
        if len(self._rows) >= ROWS_PER_BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_batch(pa.RecordBatch.from_pylist(self._rows, schema=self._schema))
            self._rows = []

    def close(self) -> None:
        """Write the last rows and the footer."""
        self._flush()
        self._writer.close()
        self._file.commit()

    def abort(self) -> None:
        """Drop what was written."""
        self._writer.close()
        self._file.discard()


class Closing:
    """Close a writer on success, abort it on an error."""

    def __init__(self, writer: RowWriter) -> None:
        self.writer = writer

    def __enter__(self) -> RowWriter:
        return self.writer

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None:
            self.writer.close()
        else:
            self.writer.abort()
