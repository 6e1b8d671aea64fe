"""Stripe records -> XDM records: which mapping a stream uses, and the mappings themselves.

`mapper_for` builds the mapping a stream uses: a table name, `compat` or `generic` (which one
the settings say: `TargetSettings.mapping_for`), else the stream's own table. A stream with
none of these is an error naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from target_aep.errors import UnmappedStreamError
from target_aep.mapping.converters import MappingOptions
from target_aep.mapping.engine import FieldProblem, Table, TableMapper
from target_aep.mapping.tables import TABLES
from target_aep.mapping.whole_record import CompatMapper, GenericMapper

MAPPING_NAMES = (*TABLES, "compat", "generic")


class Mapper(Protocol):
    """What the sink needs from a mapping."""

    stream: str
    is_profile: bool
    schema: str  # built-in Platform-form schema file (target_aep/schemas/)
    # Valid by construction (mapping/tenant.py): the path of the tenant object whose fields the
    # mapping writes by its layout, with each such field's schema (None: none); and whether the
    # last record mapped fits those schemas, so validation need not read those fields again.
    tenant_detail: tuple[tuple[str, ...], dict[str, Any]] | None
    tenant_certified: bool

    def map(self, record: Mapping[str, Any]) -> dict:
        """One record -> one XDM record in Platform form (no nulls, deterministic `_id`)."""

    def map_reporting(self, record: Mapping[str, Any]) -> tuple[dict, list[FieldProblem]]:
        """`map`, plus the fields a value could not be converted for (left out)."""

    def tenant_schema(self, singer_schema: Mapping[str, Any]) -> dict:
        """The Platform-form schema of the tenant area this mapping writes; from then on the
        mapping writes records by that same schema's layout."""


def mapper_for(
    stream: str,
    options: MappingOptions,
    mapping: str | None = None,
    singer_schema: Mapping[str, Any] | None = None,
) -> Mapper:
    """The mapper for `stream`: the mapping named `mapping`, else the stream's own table.

    With the stream's Singer schema, fields XDM cannot type are written by that schema's layout
    from the first record on (`mapping/tenant.py`); `tenant_schema` states the same layout.
    """
    name = mapping or stream
    if name == "compat":
        mapper: Mapper = CompatMapper(stream, options)
    elif name == "generic":
        mapper = GenericMapper(stream, options)
    else:
        table: Table | None = TABLES.get(name)
        if table is None:
            raise UnmappedStreamError(
                f"stream {stream!r} has no XDM mapping. Map it in config with "
                f"streams.{stream}.mapping set to one of {', '.join(MAPPING_NAMES)}."
            )
        mapper = TableMapper(table, options, stream=stream)
    if singer_schema is not None:
        mapper.tenant_schema(singer_schema)
    return mapper
