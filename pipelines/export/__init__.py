"""The archive as a dataset: one row per archived article, as JSON Lines or Parquet."""

from pipelines.export.export import ExportReport, Selection, export_archive

__all__ = ["ExportReport", "Selection", "export_archive"]
