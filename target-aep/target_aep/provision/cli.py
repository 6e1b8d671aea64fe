"""`target-aep-provision --config CONFIG --catalog CATALOG [--dry-run] [--output FILE]`.

Reads the target's own settings (config files, or `--config ENV` for the `TARGET_AEP_*`
environment variables Meltano sets) and the tap's Singer catalog (`--discover` output: each
stream's schema; selected streams only when the catalog selects any), provisions every object
(`provision/provisioner.py`), prints one line per object, and with `--output` writes the target
settings the run produced (`tenant_id`, `inlet_id`, `streams.<name>.dataset_id/schema_id/
flow_id`). Exit status 0 when every object is in place, 1 when the run stopped part-way (the
objects it created are kept: run it again) or an existing object differs from what the target
needs (reported, left alone), 2 for bad arguments or settings.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from target_aep.adobe.catalog import CatalogDatasets
from target_aep.adobe.flow_service import FlowService
from target_aep.adobe.identity_service import IdentityService
from target_aep.adobe.platform import PlatformClient
from target_aep.adobe.schema_registry import SchemaRegistry
from target_aep.errors import SettingError, UnmappedStreamError
from target_aep.mapping import MAPPING_NAMES, mapper_for
from target_aep.mapping.converters import MappingOptions
from target_aep.provision.provisioner import Apis, Outcome, Provisioner, ProvisionResult
from target_aep.settings import ENV_PREFIX, TargetSettings

LOGGER = logging.getLogger("target_aep.provision")


def read_config(sources: Sequence[str], environ: Mapping[str, str]) -> dict[str, Any]:
    """Config files merged in order; `ENV` reads the `TARGET_AEP_<SETTING>` variables."""
    config: dict[str, Any] = {}
    for source in sources:
        if source == "ENV":
            for name, value in environ.items():
                if name.startswith(ENV_PREFIX):
                    setting = name[len(ENV_PREFIX) :].lower()
                    config[setting] = json.loads(value) if setting == "streams" else value
        else:
            config.update(json.loads(Path(source).read_text()))
    return config


def read_catalog(path: str) -> dict[str, dict]:
    """Each catalog stream's schema; only the selected ones when the catalog selects any."""
    catalog = json.loads(Path(path).read_text())
    streams = catalog.get("streams", [])
    selected = [s for s in streams if _selected(s) is True]
    if any(_selected(s) is not None for s in streams):
        streams = selected
    return {s.get("tap_stream_id") or s["stream"]: s["schema"] for s in streams}


def _selected(stream: Mapping[str, Any]) -> bool | None:
    for entry in stream.get("metadata", []):
        if entry.get("breadcrumb") == []:
            return entry.get("metadata", {}).get("selected")
    return None


def mapped_streams(settings: TargetSettings, catalog: dict[str, dict]) -> dict[str, dict]:
    """The catalog streams the target can map (others are said and left out)."""
    kept = {}
    options = MappingOptions(tenant_id=settings.tenant_id or "tenant")
    for stream, schema in catalog.items():
        try:
            mapper_for(stream, options, settings.mapping_for(stream))
        except UnmappedStreamError as error:
            LOGGER.warning("not provisioned: %s", error)
            continue
        kept[stream] = schema
    return kept


def print_outcome(outcome: Outcome) -> None:
    line = f"{outcome.kind:<20} {outcome.status:<27} {outcome.name}"
    if outcome.id:
        line += f"  [{outcome.id}]"
    if outcome.detail:
        line += f"  {outcome.detail}"
    print(line, flush=True)


def print_summary(result: ProvisionResult) -> None:
    counts: dict[str, int] = {}
    for outcome in result.outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    print("summary: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="target-aep-provision",
        description="Create (or find, or extend) the AEP objects target-aep delivers to.",
    )
    parser.add_argument(
        "--config",
        action="append",
        required=True,
        help="target config JSON file (repeatable, later ones win), or ENV for TARGET_AEP_*",
    )
    parser.add_argument("--catalog", required=True, help="the tap's Singer catalog (--discover)")
    parser.add_argument(
        "--dry-run", action="store_true", help="say what would change; change nothing"
    )
    parser.add_argument("--output", help="write the target settings the run produced here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s")
    try:
        config = read_config(args.config, os.environ if environ is None else environ)
        settings = TargetSettings.from_config(
            config, mapping_names=MAPPING_NAMES, require_delivery_ids=False
        )
        if not settings.has_adobe_credentials:
            raise SettingError(
                [
                    "provisioning needs Adobe credentials: set ims_org_id, client_id and "
                    "client_secret (TARGET_AEP_IMS_ORG_ID, TARGET_AEP_CLIENT_ID, "
                    "TARGET_AEP_CLIENT_SECRET)"
                ]
            )
        catalog = mapped_streams(settings, read_catalog(args.catalog))
    except (OSError, ValueError, SettingError) as error:
        print(f"target-aep-provision: {error}", file=sys.stderr)
        return 2
    client = PlatformClient(settings)
    try:
        apis = Apis(
            SchemaRegistry(client),
            IdentityService(client),
            CatalogDatasets(client),
            FlowService(client),
        )
        result = Provisioner(
            settings, apis, catalog, dry_run=args.dry_run, report=print_outcome
        ).run()
    finally:
        client.close()
    print_summary(result)
    if result.failure:
        print(f"target-aep-provision: stopped: {result.failure}", file=sys.stderr)
        return 1
    if result.blocked:
        print(
            "target-aep-provision: not provisioned, because an existing object differs from "
            f"what the target needs (see 'differs' above): {', '.join(result.blocked)}; change "
            "or rename that object, then run again",
            file=sys.stderr,
        )
        return 1
    if args.output and not args.dry_run:
        Path(args.output).write_text(json.dumps(result.settings_file(), indent=2) + "\n")
        print(f"target settings written to {args.output}")
    return 0


def main_exit() -> None:
    """The console script: `main`'s status as the process exit status."""
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    main_exit()
