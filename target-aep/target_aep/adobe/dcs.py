"""Data Collection (DCS) streaming messages: the XDM envelope out, the 207 Multi-Status back in.

The envelope's header and `xdmMeta` are the same for every record of a dataset, so they are
serialised once; per record only the XDM entity is encoded (the hot path). The batch endpoint
answers 207 with one `responses[i]` per message, in order: success is an entry with only an
`xactionId`; a failure carries `statusCode` (Adobe's docs) or `status` (Adobe's Kafka connector
fixtures) plus a message, so both spellings are read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from target_aep.json_encoding import to_json

XED_CONTENT_TYPE = "application/vnd.adobe.xed-full+json;version=1"
SOURCE_NAME = "target-aep"
BATCH_PREFIX = b'{"messages":['
BATCH_SUFFIX = b"]}"
BATCH_OVERHEAD = len(BATCH_PREFIX) + len(BATCH_SUFFIX)


class Envelope:
    """Wraps XDM entities of one dataset in the documented full XDM envelope (header + body)."""

    def __init__(
        self,
        *,
        ims_org_id: str | None,
        dataset_id: str | None,
        schema_id: str | None,
        flow_id: str | None,
    ) -> None:
        """The ids come from the settings, which require them all for streaming."""
        schema_ref = {"id": schema_id, "contentType": XED_CONTENT_TYPE}
        header = {
            "schemaRef": schema_ref,
            "imsOrgId": ims_org_id,
            "datasetId": dataset_id,
            "flowId": flow_id,
            "source": {"name": SOURCE_NAME},
        }
        self._prefix = (
            b'{"header":'
            + to_json(header)
            + b',"body":{"xdmMeta":'
            + to_json({"schemaRef": schema_ref})
            + b',"xdmEntity":'
        )

    def message(self, encoded: bytes) -> bytes:
        """One message as JSON bytes, around the entity's own JSON (`encoded`)."""
        return self._prefix + encoded + b"}}"


def batch_body(messages: Sequence[bytes]) -> bytes:
    """The `/collection/batch` request body `{"messages": [...]}` from encoded messages."""
    return BATCH_PREFIX + b",".join(messages) + BATCH_SUFFIX


@dataclass(frozen=True)
class MessageOutcome:
    """What DCS said about one message of a batch request."""

    accepted: bool
    retryable: bool = False
    reasons: tuple[dict, ...] = ()


ACCEPTED = MessageOutcome(accepted=True)


def read_multi_status(payload: Any, count: int) -> list[MessageOutcome] | None:
    """Per-message outcomes of a 207 answer, by index; None unless it covers `count` messages."""
    responses = payload.get("responses") if isinstance(payload, dict) else None
    if not isinstance(responses, list) or len(responses) != count:
        return None
    return [_outcome(entry) for entry in responses]


def _outcome(entry: Any) -> MessageOutcome:
    if not isinstance(entry, dict):
        return MessageOutcome(False, True, ({"message": "unreadable DCS response entry"},))
    status = entry.get("statusCode", entry.get("status"))
    if status is None and entry.get("xactionId"):
        return ACCEPTED
    try:
        code = int(status) if status is not None else 0
    except (TypeError, ValueError):
        code = 0
    if 200 <= code < 300:
        return ACCEPTED
    retryable = code == 429 or code >= 500 or code == 0
    return MessageOutcome(False, retryable, error_reasons(entry, code))


def error_reasons(payload: Any, status: int) -> tuple[dict, ...]:
    """Adobe's reasons for refusing a message: the violations when given, else its message."""
    report = payload.get("report") if isinstance(payload, dict) else None
    cause = report.get("cause") if isinstance(report, dict) else None
    violations = cause.get("_streamingValidation") if isinstance(cause, dict) else None
    if isinstance(violations, list) and violations:
        return tuple(
            {
                "path": item.get("pointerToViolation", ""),
                "message": item.get("message", ""),
                "status": status,
                "code": item.get("keyword", ""),
            }
            for item in violations
            if isinstance(item, dict)
        )
    message = ""
    code = ""
    if isinstance(payload, dict):
        message = payload.get("message") or payload.get("title") or payload.get("detail") or ""
        if isinstance(report, dict) and not message:
            message = report.get("message", "")
        code = payload.get("code") or payload.get("type") or ""
    return (
        {
            "path": "",
            "message": str(message) or f"HTTP {status}",
            "status": status,
            "code": str(code),
        },
    )
