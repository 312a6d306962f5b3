"""MkDocs hook: generate the reference pages from the code, so they cannot drift.

- reference/cli.md from ``crawler.cli.build_parser()`` (every subcommand it declares);
- reference/sources-yaml.md and reference/sources.schema.json from ``crawler.sources``;
- reference/archive-objects.md from the JSON Schemas in docs/schemas/.

A key of sources.yaml without a description in sources_keys.yaml (or a description of a key
the model no longer has) stops the build.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
KEYS = HERE / "sources_keys.yaml"
EXAMPLE = ROOT / "docs" / "examples" / "sources.yaml"
SCHEMAS = ROOT / "docs" / "schemas"
OBJECTS = {"article": "Article", "duplicate": "Duplicate", "run-summary": "Run summary"}
HELP_WIDTH = "80"  # argparse wraps usage lines to $COLUMNS: fixed, so builds are identical

sys.path.insert(0, str(ROOT))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _option_row(action: argparse.Action) -> str:
    names = ", ".join(f"`{name}`" for name in action.option_strings) or f"`{action.dest}`"
    metavar = action.metavar or (action.dest.upper() if action.nargs != 0 else "")
    if action.choices and not action.metavar:
        metavar = "{" + ",".join(str(choice) for choice in action.choices) + "}"
    default = action.default
    shown = "" if default in (None, False, [], argparse.SUPPRESS) else f"`{default}`"
    need = "required" if action.required else ("repeatable" if action.default == [] else "")
    return f"| {names} | {metavar} | {_cell(action.help or '')} | {shown} | {need} |"


def cli_page() -> str:
    """Return the CLI reference: one section per subcommand of the real parser."""
    from crawler.cli import build_parser  # noqa: PLC0415  (after sys.path is set)

    os.environ["COLUMNS"] = HELP_WIDTH
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help or "" for choice in commands._choices_actions}
    lines = [
        "# Command line",
        "",
        "Generated from `crawler.cli.build_parser()` at every docs build.",
        "Every command is also `python -m crawler COMMAND`.",
        "",
        "| command | what it does |",
        "| --- | --- |",
    ]
    for name in commands.choices:
        lines.append(f"| [`{name}`](#{name}) | {_cell(helps.get(name, ''))} |")
    lines += ["", "Exit status: see [troubleshooting](../guides/operations.md#exit-status).", ""]
    for name, sub in commands.choices.items():
        lines += [f"## {name}", "", helps.get(name, ""), "", "```text", sub.format_usage().strip()]
        lines += ["```", ""]
        options = [a for a in sub._actions if not isinstance(a, argparse._HelpAction)]
        if options:
            lines += [
                "| option | value | meaning | default | notes |",
                "| --- | --- | --- | --- | --- |",
            ]
            lines += [_option_row(action) for action in options]
            lines.append("")
    return "\n".join(lines)


def _type(spec: dict[str, Any]) -> str:
    if "anyOf" in spec:
        kinds = [_type(option) for option in spec["anyOf"] if option.get("type") != "null"]
        return " or ".join(kinds)
    if "$ref" in spec:
        return "mapping (below)"
    kind = spec.get("type", "")
    if kind == "array":
        items = spec.get("items", {})
        return "list of mappings (below)" if "$ref" in items else f"list of {_type(items)}s"
    extra = []
    if "pattern" in spec:
        extra.append(f"matching `{spec['pattern']}`")
    if "maxLength" in spec:
        extra.append(f"at most {spec['maxLength']} characters")
    if "minimum" in spec:
        extra.append(f">= {spec['minimum']}")
    if "exclusiveMinimum" in spec:
        extra.append(f"> {spec['exclusiveMinimum']}")
    return " ".join([{"boolean": "true/false"}.get(kind, kind), *extra])


def _default(value: Any) -> str:
    return "none" if value in (None, [], ()) else f"`{json.dumps(value)}`"


def _key_table(model: dict[str, Any], described: dict[str, str], where: str) -> list[str]:
    properties = model["properties"]
    missing = sorted(set(properties) - set(described))
    stale = sorted(set(described) - set(properties))
    if missing or stale:
        raise PluginError(
            f"{KEYS.name} [{where}]: describe {missing or 'nothing more'}; "
            f"remove {stale or 'nothing'} (the model in crawler/sources.py changed)"
        )
    lines = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for key, spec in properties.items():
        default = "required" if key in model.get("required", ()) else _default(spec["default"])
        lines.append(f"| `{key}` | {_type(spec)} | {default} | {_cell(described[key])} |")
    return lines


def sources_schema() -> dict[str, Any]:
    """Return the JSON Schema of sources.yaml with each key's description from sources_keys."""
    from crawler.sources import json_schema  # noqa: PLC0415

    schema = json_schema()
    described = yaml.safe_load(KEYS.read_text(encoding="utf-8"))
    parts = {
        "top level": schema,
        "source": schema["$defs"]["Source"],
        "health": schema["$defs"][next(k for k in schema["$defs"] if "Health" in k)],
    }
    for where, model in parts.items():
        _key_table(model, described[where], where)  # raises on a key without a description
        for key, spec in model["properties"].items():
            spec["description"] = described[where][key]
    schema["title"] = "wirearchive sources.yaml"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def example_table() -> list[str]:
    """Return the example config's sources as a table; an invalid example stops the build."""
    from crawler.sources import ConfigError, load_config  # noqa: PLC0415

    try:
        config = load_config(EXAMPLE)
    except ConfigError as err:
        raise PluginError(f"the example config is invalid: {err}") from err
    lines = ["| source | language | found through | schedule |", "| --- | --- | --- | --- |"]
    for source in config.sources:
        kinds = {"feeds": source.feeds, "sitemaps": source.sitemaps, "listings": source.start_urls}
        found = ", ".join(f"{len(urls)} {kind}" for kind, urls in kinds.items() if urls)
        lines.append(
            f"| `{source.name}` | {source.language or 'any'} | {found} "
            f"| `{source.schedule or '-'}` |"
        )
    return lines


def sources_page(schema: dict[str, Any]) -> str:
    """Return the sources.yaml reference: one table per level, from the pydantic models."""
    described = yaml.safe_load(KEYS.read_text(encoding="utf-8"))
    health = next(k for k in schema["$defs"] if "Health" in k)
    lines = [
        "# sources.yaml",
        "",
        "Generated from the pydantic models in `crawler/sources.py` at every docs build; the same",
        "rules as a JSON Schema: [sources.schema.json](sources.schema.json) (editors such as VS",
        "Code validate a YAML file against it with `# yaml-language-server: "
        "$schema=sources.schema.json`).",
        "",
        "Any other key is an error that names the file, the source and the key, and the command",
        "exits 1 before fetching anything. A source needs at least one of `feeds`, `sitemaps`,",
        "`start_urls`, or `domains` alone (a source for history backfills only, which `crawl`",
        "skips).",
        "",
        "## Top level",
        "",
        *_key_table(schema, described["top level"], "top level"),
        "",
        "## Each source",
        "",
        *_key_table(schema["$defs"]["Source"], described["source"], "source"),
        "",
        "## health",
        "",
        "Per-source thresholds of [source health](../guides/operations.md#health-alerts).",
        "",
        *_key_table(schema["$defs"][health], described["health"], "health"),
        "",
        "## Example",
        "",
        "Validated by `crawler.sources` at every docs build:",
        "",
        *example_table(),
        "",
        "```yaml",
        EXAMPLE.read_text(encoding="utf-8").strip(),
        "```",
        "",
    ]
    return "\n".join(lines)


def _resolve(spec: dict[str, Any], base: str) -> dict[str, Any]:
    """Follow a $ref into docs/schemas (``#/$defs/x`` or ``file.schema.json#/$defs/x``)."""
    if "$ref" not in spec:
        return spec
    file, _, pointer = spec["$ref"].partition("#")
    target: Any = json.loads((SCHEMAS / (file or base)).read_text("utf-8"))
    for part in pointer.strip("/").split("/"):
        target = target[part]
    return {**_resolve(target, file or base), **{k: v for k, v in spec.items() if k != "$ref"}}


def _json_type(spec: dict[str, Any], base: str) -> str:
    spec = _resolve(spec, base)
    if "const" in spec:
        return f"`{json.dumps(spec['const'])}`"
    if "enum" in spec:
        return " / ".join(f"`{json.dumps(value)}`" for value in spec["enum"])
    if "oneOf" in spec:
        kinds = dict.fromkeys(_json_type(option, base) for option in spec["oneOf"])
        return " or ".join(kinds)
    kind = spec.get("type", "")
    return " or ".join(kind) if isinstance(kind, list) else kind


def _field_rows(schema: dict[str, Any], base: str) -> list[str]:
    required = set(schema.get("required", ()))
    lines = ["| field | type | always | meaning |", "| --- | --- | --- | --- |"]
    for key, spec in schema["properties"].items():
        always = "yes" if key in required else ""
        meaning = _cell(_resolve(spec, base).get("description", ""))
        lines.append(f"| `{key}` | {_json_type(spec, base)} | {always} | {meaning} |")
    return lines


def objects_page() -> str:
    """Return the reference of the archive's JSON objects, from the published schemas."""
    lines = [
        "# Archive objects",
        "",
        "Generated from the JSON Schemas in `docs/schemas/` at every docs build. A test",
        "(`tests/test_schemas.py`) validates the objects of a real crawl against them.",
        "Within `schema_version` 1 fields are only ever added: accept keys you do not know.",
        "",
    ]
    for name, title in OBJECTS.items():
        schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
        lines += [f"## {title}", "", schema["description"], ""]
        lines += [f"JSON Schema: [{name}.schema.json](../schemas/{name}.schema.json)", ""]
        lines += [*_field_rows(schema, f"{name}.schema.json"), ""]
    return "\n".join(lines)


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the generated reference pages and the sources.yaml schema to the site."""
    schema = sources_schema()
    generated = {
        "reference/cli.md": cli_page(),
        "reference/sources-yaml.md": sources_page(schema),
        "reference/sources.schema.json": json.dumps(schema, indent=2) + "\n",
        "reference/archive-objects.md": objects_page(),
    }
    for uri, content in generated.items():
        files.append(File.generated(config, uri, content=content))
    return files
