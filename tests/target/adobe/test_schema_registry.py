"""Schema Registry: the resolved (xed-full) schema once per run, and the tenant id from /stats."""

from __future__ import annotations

import pytest
from target_aep.adobe.platform import PlatformClient
from target_aep.adobe.schema_registry import SchemaRegistry
from target_aep.errors import DeliveryError
from target_aep.settings import TargetSettings

from tests.doubles.aep_api import EXAMPLE_SCHEMA, EXAMPLE_SCHEMA_ID


def registry_of(aep) -> SchemaRegistry:
    return SchemaRegistry(PlatformClient(TargetSettings.from_config(aep.config())))


def test_resolved_schema_is_fetched_once_per_run_with_the_xed_full_accept_header(aep):
    registry = registry_of(aep)
    first = registry.resolved_schema(EXAMPLE_SCHEMA_ID)
    second = registry.resolved_schema(EXAMPLE_SCHEMA_ID)
    assert first is second
    assert first["$id"] == EXAMPLE_SCHEMA_ID
    assert first["properties"] == EXAMPLE_SCHEMA["properties"]  # the double 406es other Accepts
    assert aep.count("GET", "/data/foundation/schemaregistry/tenant/schemas/") == 1


def test_unknown_schema_fails_naming_the_schema_and_the_sandbox(aep):
    registry = registry_of(aep)
    missing = "https://ns.adobe.com/acme/schemas/doesnotexist"
    with pytest.raises(DeliveryError, match=r"doesnotexist was not found in sandbox 'prod'"):
        registry.resolved_schema(missing)


def test_tenant_id_is_read_from_stats_once(aep):
    registry = registry_of(aep)
    assert registry.tenant_id() == "acme"
    assert registry.tenant_id() == "acme"
    assert aep.count("GET", "/data/foundation/schemaregistry/stats") == 1
