"""Validate mapped XDM records the way Platform will: against the dataset's schema, objects closed.

Where a dataset's schema comes from, in order: the Schema Registry (the stream has `schema_id`
and Adobe credentials are configured), a file (`streams.<name>.schema_path`), or the target's
built-in Platform-form schema for the stream's mapping plus the tenant area derived from the
Singer schema. Every source is closed the same way (`close_objects`) because Platform rejects
unknown keys ("extraneous key [x] is not permitted",
https://experienceleague.adobe.com/en/docs/experience-platform/ingestion/quality/streaming-validation).

Cost: the hot path is a fastjsonschema-compiled function (a few µs per record). Only a record
that fails is checked again with jsonschema, which lists *every* error with its path for the
dead-letter file.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema

from target_aep.errors import SchemaSourceError

_SCHEMA_KEYWORDS_WITH_SUBSCHEMAS = ("items", "additionalItems", "not", "contains")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf")


def close_objects(schema: Any) -> Any:
    """Copy of `schema` with `additionalProperties: false` on every object that has properties.

    Objects that already say what extra keys may hold (XDM maps such as `identityMap` and
    `metadata`) keep their rule. `meta:*` and other annotations are left alone (ignored by
    validators).
    """
    if isinstance(schema, list):
        return [close_objects(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("properties", "patternProperties", "definitions", "$defs"):
            closed[key] = {name: close_objects(sub) for name, sub in value.items()}
        elif (
            key in _SCHEMA_KEYWORDS_WITH_SUBSCHEMAS
            or key in _SCHEMA_LISTS
            or (key == "additionalProperties" and isinstance(value, dict))
        ):
            closed[key] = close_objects(value)
        else:
            closed[key] = value
    if "properties" in closed and "additionalProperties" not in closed:
        closed["additionalProperties"] = False
    return closed


def builtin_schema(name: str) -> dict:
    """A built-in Platform-form schema shipped in target_aep/schemas/ (see its README)."""
    text = resources.files("target_aep.schemas").joinpath(name).read_text(encoding="utf-8")
    return json.loads(text)


def schema_from_file(path: str | Path, setting: str) -> dict:
    """A dataset schema from a JSON file (`streams.<name>.schema_path`), Platform form."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SchemaSourceError(f"{setting}: cannot read a JSON schema from {path}: {exc}") from exc


def with_tenant(schema: Mapping[str, Any], tenant_id: str, tenant: Mapping[str, Any]) -> dict:
    """`schema` with the tenant root `_<tenant_id>` described by `tenant`."""
    combined = dict(schema)
    combined["properties"] = {**schema.get("properties", {}), f"_{tenant_id}": dict(tenant)}
    return combined


def _error_order(error: jsonschema.ValidationError) -> list[str]:
    return [str(part) for part in error.absolute_path]


@dataclass(frozen=True)
class ValidationError:
    """One reason a record is invalid: where (JSON pointer), what, and which rule."""

    path: str
    message: str
    keyword: str

    def as_dict(self) -> dict[str, str]:
        """The dead-letter form."""
        return {"path": self.path, "message": self.message, "keyword": self.keyword}


class RecordValidator:
    """A compiled, closed dataset schema: `errors(record)` is empty for a valid record."""

    def __init__(self, schema: Mapping[str, Any], source: str) -> None:
        self.source = source  # where the schema came from, for messages
        self.schema = close_objects(copy.deepcopy(dict(schema)))
        self.schema.pop("$id", None)  # registry ids are URLs: never resolve anything remotely
        try:
            # use_default=False: fastjsonschema would otherwise insert defaults (producedBy).
            # detailed_exceptions=False: the hot path needs pass/fail only, and without the
            # schema excerpts embedded in every `raise` the generated code is half the size:
            # half the compile time (~0.15 s per run for the six built-in schemas).
            self._check = fastjsonschema.compile(
                self.schema, use_default=False, detailed_exceptions=False
            )
        except (fastjsonschema.JsonSchemaDefinitionException, ValueError, TypeError) as exc:
            raise SchemaSourceError(f"{source}: not a usable JSON schema: {exc}") from exc
        self._detailed_check: Any = None  # compiled on the first failure jsonschema misses
        self._explain = jsonschema.Draft6Validator(
            self.schema, format_checker=jsonschema.Draft6Validator.FORMAT_CHECKER
        )

    def is_valid(self, record: Mapping[str, Any]) -> bool:
        """The fast check alone (no explanation)."""
        try:
            self._check(record)
        except fastjsonschema.JsonSchemaValueException:
            return False
        return True

    def errors(self, record: Mapping[str, Any]) -> list[ValidationError]:
        """Every error of `record` (empty list when valid). Fast when valid."""
        try:
            self._check(record)
        except fastjsonschema.JsonSchemaValueException as first:
            return self._explain_all(record, first)
        return []

    def _detailed_error(
        self, record: Mapping[str, Any], first: fastjsonschema.JsonSchemaValueException
    ) -> fastjsonschema.JsonSchemaValueException:
        """fastjsonschema's first error with its path and rule (the fast check has neither)."""
        if self._detailed_check is None:
            self._detailed_check = fastjsonschema.compile(self.schema, use_default=False)
        try:
            self._detailed_check(record)
        except fastjsonschema.JsonSchemaValueException as detailed:
            return detailed
        return first

    def _explain_all(
        self, record: Mapping[str, Any], first: fastjsonschema.JsonSchemaValueException
    ) -> list[ValidationError]:
        found = [
            ValidationError(
                path="/" + "/".join(str(part) for part in error.absolute_path),
                message=error.message,
                keyword=str(error.validator),
            )
            for error in sorted(
                self._explain.iter_errors(record), key=lambda e: list(map(str, e.path))
            )
        ]
        if found:
            return found
        # Only fastjsonschema objected (e.g. a format jsonschema does not check here).
        first = self._detailed_error(record, first)
        path = "/" + "/".join(str(part) for part in (first.path or [])[1:])
        return [ValidationError(path=path, message=first.message, keyword=str(first.rule))]
