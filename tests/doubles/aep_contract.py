"""Checks HTTP exchanges with the AEP double against Adobe's own OpenAPI specs (../shared).

Both directions are checked: what the target sends (paths, headers, query, body) and what the
double answers, so neither side can drift from Adobe's contract. The specs are read in place.
Adjustments, all mechanical: YAML integer status keys become strings; each spec's `servers`
becomes its documented base path (the files use protocol-relative URLs with variables that
openapi-core cannot match against 127.0.0.1); the Schema Registry spec is Swagger 2.0, which
openapi-core does not read, so it is converted to OpenAPI 3 (parameters get a `schema`, the body
parameter becomes `requestBody`, `definitions` become `components/schemas`).

Readings of the specs, stated here so they are visible:
- an answer declared with `content: {}` (Adobe's error codes, the file PUT's 200) has an
  undocumented body: openapi-core would insist on data for it, so an empty body, or any body,
  is accepted there; answers declared with a schema are checked in full.
- Adobe's gateway answers 400, 401, 403, 404, 429, 500, 502, 503 and 504 on any API (the "API
  status codes" of the troubleshooting guide each spec links to); an operation that does not
  list one of these (Flow Service's creates list only 201, 403 and 503) is not a reason to flag
  it.
- `IngestBatch.inputFormat.format`: the request enum says `JSON`, while Adobe's batch ingestion
  guide, Catalog's `inputFormat` and the same spec's `Batch.inputFormat` all spell it `json`;
  the format is read case-insensitively, so only that enum's case is waived.
- `xdmEntity` is described as "your entity will differ from that seen in the example": its
  properties in the streaming spec are an illustration (it even shows `productListItems` as an
  object, while XDM defines an array). The entity is checked against its dataset's schema by the
  double itself, so the spec's illustrative properties of `xdmEntity` are not enforced.
- Schema Registry `patchSchema` (the body of every registry PATCH) types each operation's
  `value` as a string, while the same spec's example adds an object and Adobe's guides add
  `{"$ref": ...}` objects and `["union"]` arrays
  (https://experienceleague.adobe.com/en/docs/experience-platform/xdm/api/schemas#union): the
  JSON Patch `value` is any JSON value (RFC 6902), so its type is not enforced.
- Schema Registry `createDescriptor.xdm:sourceVersion` is typed string, while the same spec's
  descriptor lookup types it integer and Adobe's descriptor guide sends `1`: either is accepted.
- Catalog `PATCH /dataSets/{id}` lists `application/json-patch+json` as a request media type
  (with the dataset object as its schema) while its `Content-Type` parameter allows only
  `application/json`; Adobe's Profile guide sends a JSON Patch array with that media type
  (https://experienceleague.adobe.com/en/docs/experience-platform/profile/tutorials/dataset-configuration).
  So that operation also takes `application/json-patch+json` with an RFC 6902 array.
- `StreamingIngestionResponse.receivedTimeMs` is declared `int32`, but it is documented as epoch
  milliseconds (> 2**31); that one format check is waived.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

# path prefix on the double -> (spec file, base path the spec's paths are relative to)
SPECS = {
    "/collection/": ("streaming-ingestion.yaml", "/"),
    "/data/foundation/import/": ("batch-ingestion.yaml", "/data/foundation/import"),
    "/data/foundation/catalog/": ("catalog.yaml", "/data/foundation/catalog"),
    "/data/foundation/schemaregistry/": ("schema-registry.yaml", "/data/foundation/schemaregistry"),
    "/data/core/idnamespace/": ("identity-service.yaml", "/data/core"),
    "/data/foundation/flowservice/": ("flow-service.yaml", "/data/foundation/flowservice"),
}


class AepContract:
    """Validates requests and responses against the spec that covers their path."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def covers(self, path: str) -> bool:
        return any(path.startswith(prefix) for prefix in SPECS)

    def violations(
        self,
        *,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
        status: int,
        response_body: bytes,
        response_content_type: str | None,
    ) -> list[str]:
        """Everything about this exchange that the spec does not allow (empty when it conforms)."""
        for prefix, (name, base) in SPECS.items():
            if path.startswith(prefix):
                api = _load(str(self.folder / name), base)
                break
        else:
            return []
        request = MockRequest(
            "http://127.0.0.1",
            method.lower(),
            path,
            args=dict(query),
            headers=dict(headers),
            data=body or None,
            content_type=headers.get("content-type", "application/json"),
        )
        found = []
        try:
            api.validate_request(request)
        except Exception as error:
            if not _waived_request(error, body):
                found.append(f"request {method} {path}: {_describe(error)}")
        response = MockResponse(
            response_body, status_code=status, content_type=response_content_type or ""
        )
        try:
            api.validate_response(request, response)
        except Exception as error:
            if not _waived(error):
                found.append(f"response {status} to {method} {path}: {_describe(error)}")
        return found


def _waived_request(error: Exception, body: bytes) -> bool:
    """The input-format case reading described in the module docstring."""
    text = str(error)
    if "is not one of ['JSON', 'Parquet', 'CSV']" not in text or text.count("ValidationError") != 1:
        return False
    try:
        fmt = json.loads(body)["inputFormat"]["format"]
    except (ValueError, KeyError, TypeError):
        return False
    return isinstance(fmt, str) and fmt.upper() in ("JSON", "PARQUET", "CSV")


def _waived(error: Exception) -> bool:
    """The spec readings described in the module docstring."""
    cause = error.__cause__
    if type(error).__name__ == "ResponseNotFound" and any(
        f"status: {code}" in str(error) for code in GATEWAY_STATUSES
    ):
        return True
    if type(error).__name__ == "MissingData":
        return True  # declared `content: {}` and sent no body
    if type(cause).__name__ == "MediaTypeNotFound" and "Valid mimetypes: []" in str(cause):
        return True  # declared `content: {}` and sent a body
    text = str(error)
    return (
        "receivedTimeMs" in text
        and "is not a 'int32'" in text
        and text.count("ValidationError") == 1
    )


def _describe(error: Exception) -> str:
    cause = getattr(error, "__cause__", None)
    text = f"{type(error).__name__}: {error}"
    if cause is not None:
        text += f" ({type(cause).__name__}: {cause})"
    return text[:2000]


@functools.cache
def _load(file: str, base: str) -> OpenAPI:
    with open(file, encoding="utf-8") as stream:
        document = _string_keys(yaml.safe_load(stream))
    if str(document.get("swagger", "")).startswith("2"):
        document = _swagger2_to_openapi3(document)
    document["servers"] = [{"url": base}]
    schemas = document.get("components", {}).get("schemas", {})
    patch_value = schemas.get("patchSchema", {}).get("items", {}).get("properties", {})
    if "value" in patch_value:  # any JSON value (docstring)
        patch_value["value"] = {}
    if file.endswith("catalog.yaml"):
        _allow_json_patch_on_dataset_patch(document)
    for name in ("createDescriptor", "lookupDescriptorResponse"):
        version = schemas.get(name, {}).get("properties", {})
        if "xdm:sourceVersion" in version:  # string or integer (docstring)
            version["xdm:sourceVersion"] = {}
    for body in ("BatchMessageBody", "messageBody"):
        entity = document.get("components", {}).get("schemas", {}).get(body, {})
        entity = entity.get("properties", {}).get("xdmEntity")
        if entity is not None:  # the example entity's properties are illustrative (docstring)
            entity.pop("properties", None)
    config = Config(
        spec_validator_cls=None,
        extra_media_type_deserializers={"application/json-patch+json": json.loads},
    )
    return OpenAPI.from_dict(document, config=config)


JSON_PATCH = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["op", "path"],
        "properties": {"op": {"type": "string"}, "path": {"type": "string"}},
    },
}


def _allow_json_patch_on_dataset_patch(document: dict) -> None:
    """Catalog's dataset PATCH takes a JSON Patch array (module docstring)."""
    operation = document["paths"]["/dataSets/{DATASET_ID}"]["patch"]
    operation["requestBody"]["content"]["application/json-patch+json"] = {"schema": JSON_PATCH}
    parameters = []
    for parameter in operation["parameters"]:
        if parameter.get("$ref", "").endswith("/content-type"):
            parameter = {
                "name": "content-type",
                "in": "header",
                "required": True,
                "schema": {
                    "type": "string",
                    "enum": ["application/json", "application/json-patch+json"],
                },
            }
        parameters.append(parameter)
    operation["parameters"] = parameters


def _string_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _string_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_string_keys(item) for item in value]
    return value


GATEWAY_STATUSES = (400, 401, 403, 404, 429, 500, 502, 503, 504)
_PARAMETER_SCHEMA_KEYS = ("type", "enum", "items", "format", "default", "pattern")
_HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _swagger2_to_openapi3(document: dict) -> dict:
    shared_parameters = document.get("parameters", {})
    produces = document.get("produces", ["application/json"])

    def resolve(parameter: dict) -> dict:
        if "$ref" in parameter:
            return shared_parameters[parameter["$ref"].rsplit("/", 1)[-1]]
        return parameter

    paths = {}
    for path, item in document.get("paths", {}).items():
        common = [resolve(p) for p in item.get("parameters", [])]
        converted = {}
        for method, operation in item.items():
            if method not in _HTTP_METHODS:
                continue
            new_operation: dict = {"responses": {}}
            parameters: dict[tuple[str, str], dict] = {}
            for parameter in common + [resolve(p) for p in operation.get("parameters", [])]:
                if parameter["in"] == "body":
                    consumes = operation.get(
                        "consumes", document.get("consumes", ["application/json"])
                    )
                    new_operation["requestBody"] = {
                        "required": bool(parameter.get("required", False)),
                        "content": {
                            kind: {"schema": parameter.get("schema", {})} for kind in consumes
                        },
                    }
                elif parameter["in"] != "formData":
                    parameters[(parameter["name"].lower(), parameter["in"])] = {
                        "name": parameter["name"],
                        "in": parameter["in"],
                        "required": bool(parameter.get("required")) or parameter["in"] == "path",
                        "schema": {
                            k: parameter[k] for k in _PARAMETER_SCHEMA_KEYS if k in parameter
                        },
                    }
            new_operation["parameters"] = list(parameters.values())
            for code, answer in operation.get("responses", {}).items():
                converted_answer = {"description": answer.get("description", "")}
                if "schema" in answer:
                    kinds = operation.get("produces", produces)
                    converted_answer["content"] = {
                        kind: {"schema": answer["schema"]} for kind in kinds
                    }
                new_operation["responses"][str(code)] = converted_answer
            converted[method] = new_operation
        paths[path] = converted
    result = {
        "openapi": "3.0.3",
        "info": document.get("info", {"title": "converted", "version": "1"}),
        "paths": paths,
        "components": {"schemas": document.get("definitions", {})},
    }
    return _rewrite_refs(result)


def _rewrite_refs(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: (
                item.replace("#/definitions/", "#/components/schemas/")
                if key == "$ref" and isinstance(item, str)
                else _rewrite_refs(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_rewrite_refs(item) for item in value]
    return value
