"""Mappings that keep the whole record in the tenant area: compat (Adobe's layout) and generic."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from target_aep.mapping.changes import change_of
from target_aep.mapping.converters import MappingOptions
from target_aep.mapping.ids import record_id
from target_aep.mapping.names import camel_case
from target_aep.mapping.tenant import Layout, tenant_layout, tenant_object, tenant_schema
from target_aep.sdk_adapters import SDC_BOOKKEEPING


class CompatMapper:
    """`mapping_mode: compat`: the layout of Adobe's own Stripe source
    (https://experienceleague.adobe.com/en/docs/experience-platform/sources/api-tutorials/create/payments/stripe).

    Every Stripe field as is under `_<tenant>.<resource>_data.<stripe field>`: snake_case names,
    raw minor units and epoch seconds, no standard XDM fields, no identity. Only `_id` is added
    (deterministic, like every other mapping) so re-sends stay idempotent; nulls are dropped
    because Platform rejects them.
    """

    schema = "record.json"
    is_profile = False
    # validated whole: nothing vouched for by construction
    tenant_detail: tuple[tuple[str, ...], dict[str, Any]] | None = None
    tenant_certified = False

    def __init__(self, stream: str, options: MappingOptions) -> None:
        self.stream = stream
        self._root = f"_{options.tenant_id}"
        self._branch = f"{stream}_data"
        self._layout: Layout | None = None
        self._id_ignore = SDC_BOOKKEEPING | options.id_ignore_fields

    def map(self, record: Mapping[str, Any]) -> dict:
        """One Stripe object -> `{_id, _<tenant>: {<resource>_data: raw fields}}`.

        A delete from change capture carries Stripe's own marker, `deleted: true`.
        """
        raw = tenant_object(dict(record), camel=False, layout=self._layout)
        if _is_delete(record):
            raw["deleted"] = True
        return {
            "_id": record_id(self.stream, record.get("id"), record, self._id_ignore),
            self._root: {self._branch: raw},
        }

    def map_reporting(self, record: Mapping[str, Any]) -> tuple[dict, list]:
        """`map`; a whole-record copy has no field-by-field conversion to report on."""
        return self.map(record), []

    def tenant_schema(self, singer_schema: Mapping[str, Any]) -> dict:
        """Schema of `_<tenant>`: the stream's Singer schema with raw names and values.

        From then on, records are written by the layout of that same schema (`tenant_layout`).
        """
        self._layout = tenant_layout(dict(singer_schema), camel=False)
        branch = tenant_schema({"type": "object", **dict(singer_schema)}, camel=False)
        branch.setdefault("properties", {}).setdefault("deleted", {"type": "boolean"})
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {self._branch: branch},
        }


class GenericMapper:
    """`streams.<name>.mapping: generic`: any record kept whole under `_<tenant>.<stream>`.

    For streams that are not Stripe objects (or not yet mapped): the record class with a
    deterministic `_id` and every field camelCased in the tenant area, nothing lost.
    """

    schema = "record.json"
    is_profile = False
    # validated whole: nothing vouched for by construction
    tenant_detail: tuple[tuple[str, ...], dict[str, Any]] | None = None
    tenant_certified = False

    def __init__(self, stream: str, options: MappingOptions) -> None:
        self.stream = stream
        self._root = f"_{options.tenant_id}"
        self._branch = camel_case(stream)
        self._layout: Layout | None = None
        self._id_ignore = SDC_BOOKKEEPING | options.id_ignore_fields

    def map(self, record: Mapping[str, Any]) -> dict:
        """Any record -> `{_id, _<tenant>: {<stream>: camelCased fields}}`; a delete from
        change capture is marked `deleted: true`."""
        xdm: dict[str, Any] = {
            "_id": record_id(self.stream, record.get("id"), record, self._id_ignore)
        }
        kept = tenant_object(dict(record), layout=self._layout) or None
        if _is_delete(record):
            kept = {**(kept or {}), "deleted": True}
        if kept:
            xdm[self._root] = {self._branch: kept}
        return xdm

    def map_reporting(self, record: Mapping[str, Any]) -> tuple[dict, list]:
        """`map`; a whole-record copy has no field-by-field conversion to report on."""
        return self.map(record), []

    def tenant_schema(self, singer_schema: Mapping[str, Any]) -> dict:
        """Schema of `_<tenant>`: the stream's Singer schema, camelCased and closed."""
        self._layout = tenant_layout(dict(singer_schema))
        branch = tenant_schema({"type": "object", **dict(singer_schema)})
        branch.setdefault("properties", {}).setdefault("deleted", {"type": "boolean"})
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {self._branch: branch},
        }


def _is_delete(record: Mapping[str, Any]) -> bool:
    """`_sdc_deleted_at`, or singer-io's `updated_by_event_type: <object>.deleted`."""
    change = change_of(record, "")
    return change is not None and change.deleted
