"""`schema_evolution: add_fields`: a stream's tenant field group gains the fields its records carry.

Stripe adds fields without a new API version
(https://docs.stripe.com/upgrades#what-changes-does-stripe-consider-to-be-backward-compatible);
the tap declares them in an updated SCHEMA message (its `schema_drift: evolve`). When a record
holds tenant fields the dataset's schema lacks, the route asks `FieldGroupExtender.extend` once
(per SCHEMA message of the stream), before any such field is dropped. It finds the tenant field
group of the dataset's schema (the `allOf` member in the tenant's namespace that defines
`_<tenant>`), derives the field group the mapping wants from the stream's Singer schema with
provisioning's own code (`mapping/field_group.py`, so provisioning and the target cannot
disagree), and sends the additive JSON Patch: new fields only, nothing removed, renamed or
retyped (Platform refuses that once data exists:
https://experienceleague.adobe.com/en/docs/experience-platform/xdm/schema/composition#evolution).
A field whose type differs is reported and left alone; its values stay dropped.

It needs the stream's `schema_id`, Adobe credentials and Schema Registry write access (the
"Manage Schemas" permission). Without them, or for fields the Singer schema does not declare,
the fields are dropped and the run summary says which and that `target-aep-provision` adds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from target_aep.adobe.schema_registry import SchemaRegistry
from target_aep.errors import DeliveryError, PlatformApiError
from target_aep.mapping.field_group import (
    NotExpressibleError,
    field_group_changes,
    field_group_document,
)

FIELD_GROUPS = "fieldgroups"


@dataclass(frozen=True)
class Extension:
    """What one extension did: fields added (dotted paths), conflicts left alone, or why
    nothing could be done."""

    added: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    problem: str = ""


class FieldGroupExtender:
    """Adds what a stream's Singer schema declares to its dataset schema's tenant field group."""

    def __init__(self, registry: SchemaRegistry, tenant_id: str) -> None:
        self._registry = registry
        self._tenant_id = tenant_id

    def extend(self, schema_id: str, tenant_schema: Mapping[str, Any]) -> Extension:
        """Patch the tenant field group of schema `schema_id` up to `tenant_schema` (additions
        only). The registry's cached copy of the schema is dropped when anything was added."""
        try:
            group = self._tenant_field_group(schema_id)
            if group is None:
                return Extension(
                    problem=f"schema {schema_id} has no tenant field group defining "
                    f"_{self._tenant_id} (target-aep-provision creates one)"
                )
            wanted = field_group_document(
                title=str(group.get("title", "")),
                description=str(group.get("description", "")),
                class_id=next(iter(group.get("meta:intendedToExtend") or []), ""),
                tenant_id=self._tenant_id,
                tenant_schema=tenant_schema,
            )
            changes = field_group_changes(group, wanted, self._tenant_id)
            if changes.additions:
                self._registry.patch(FIELD_GROUPS, group["$id"], list(changes.additions))
                self._registry.forget(schema_id)
        except PlatformApiError as error:
            advice = (
                ": give the credential the 'Manage Schemas' permission, or run "
                "target-aep-provision with one that has it"
                if error.status == 403
                else ""
            )
            return Extension(problem=f"{error}{advice}")
        except (DeliveryError, NotExpressibleError) as error:
            return Extension(problem=str(error))
        return Extension(
            changes.added_paths, tuple(str(conflict) for conflict in changes.conflicts)
        )

    def _tenant_field_group(self, schema_id: str) -> dict | None:
        """The field group of the schema that defines `_<tenant>`, as stored."""
        schema = self._registry.resource("schemas", schema_id)
        namespace = f"https://ns.adobe.com/{self._tenant_id}/"
        for member in schema.get("allOf") or ():
            reference = member.get("$ref") if isinstance(member, dict) else None
            if not isinstance(reference, str) or not reference.startswith(namespace):
                continue
            if "/mixins/" not in reference and "/fieldgroups/" not in reference:
                continue  # the tenant's own class, a data type
            group = self._registry.resource(FIELD_GROUPS, reference)
            for definition in (group.get("definitions") or {}).values():
                if f"_{self._tenant_id}" in (definition.get("properties") or {}):
                    return group
        return None
