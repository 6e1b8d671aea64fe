"""Identity Service namespaces of the AEP double (`/data/core/idnamespace/identities`).

Follows ../shared/aep-openapi/identity-service.yaml and Adobe's guide
(https://experienceleague.adobe.com/en/docs/experience-platform/identity/api/create-custom-namespace):
a custom namespace needs `name`, `code` (letters and digits, unique: a taken code is a 409
"NAMESPACE_CODE_CONFLICT") and `idType`; creation answers 200 with `id`, `status: ACTIVE` and
`custom: true`; namespaces cannot be deleted. The standard ones (Email, Phone, ECID) are there
from the start. `idType` is read regardless of case; each answer spells it as its own schema in
the spec does (`Cross_device` for one namespace, `CROSS_DEVICE` in the list).
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from tests.doubles.aep_http import Answer, RefusalError, json_body

PREFIX = "/data/core/idnamespace"
CODE = re.compile(r"^[A-Za-z0-9]+$")
# canonical idType -> (spelling in the list answer's enum, spelling in the Namespace schema)
ID_TYPES = {
    "COOKIE": ("COOKIE", "Cookie"),
    "CROSS_DEVICE": ("CROSS_DEVICE", "Cross_device"),
    "DEVICE": ("Device", "Device"),
    "EMAIL": ("Email", "Email"),
    "MOBILE": ("MOBILE", "Mobile"),
    "NON_PEOPLE": ("Non_people", "Non_people"),
    "PHONE": ("Phone", "Phone"),
}
# Standard namespaces with their documented numeric ids
# (https://experienceleague.adobe.com/docs/experience-platform/privacy/api/appendix.html).
STANDARD = (
    ("Email", 6, "Email", "EMAIL"),
    ("Phone", 7, "Phone", "PHONE"),
    ("ECID", 4, "ECID", "COOKIE"),
)


@dataclass
class Namespace:
    id: int
    code: str
    name: str
    id_type: str  # canonical (upper case)
    description: str
    custom: bool
    created: int

    def document(self, *, listing: bool) -> dict:
        return {
            "id": self.id,
            "code": self.code,
            "name": self.name,
            "idType": ID_TYPES[self.id_type][0 if listing else 1],
            "description": self.description,
            "status": "ACTIVE",
            "custom": self.custom,
            "createTime": self.created,
            "updateTime": self.created,
        }


class IdentityService:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(10_000_001)
        now = int(time.time() * 1000)
        self.namespaces: dict[str, Namespace] = {
            code.lower(): Namespace(number, code, name, kind, name, False, now)
            for code, number, name, kind in STANDARD
        }

    def has(self, code: str) -> bool:
        """Whether a namespace with this code exists (codes are unique regardless of case)."""
        return code.lower() in self.namespaces

    def handle(self, method: str, path: str, body: bytes) -> Answer:
        parts = path[len(PREFIX) :].strip("/").split("/")
        try:
            if parts == ["identities"] and method == "GET":
                return Answer(200, [n.document(listing=True) for n in self.namespaces.values()])
            if parts == ["identities"] and method == "POST":
                return self._create(json_body(body))
            if len(parts) == 2 and parts[0] == "identities" and method == "GET":
                found = next((n for n in self.namespaces.values() if str(n.id) == parts[1]), None)
                if found is None:
                    return _error(404, "Namespace not found", f"no namespace with id {parts[1]}")
                return Answer(200, found.document(listing=False))
        except RefusalError as refusal:
            return refusal.answer
        return Answer(404)

    def _create(self, request: Any) -> Answer:
        if not isinstance(request, dict):
            return _error(400, "Namespace validation", "the body must be a JSON object")
        missing = [k for k in ("name", "code", "idType") if not request.get(k)]
        if missing:
            return _error(400, "Namespace validation", f"missing {', '.join(missing)}")
        code, kind = str(request["code"]), str(request["idType"]).upper()
        if not CODE.match(code):
            return _error(400, "Namespace validation", "code may contain only letters and numbers")
        if kind not in ID_TYPES:
            return _error(
                400,
                "Namespace validation",
                f"Please provide a valid value of idType. Valid values are: {list(ID_TYPES)}",
            )
        with self._lock:
            if code.lower() in self.namespaces:
                return _error(
                    409,
                    "NAMESPACE_CODE_CONFLICT",
                    "Namespace code already exists. Please use a different code",
                    "INTEGRATION_CODE_EXISTS",
                )
            namespace = Namespace(
                next(self._ids),
                code,
                str(request["name"]),
                kind,
                str(request.get("description", "")),
                True,
                int(time.time() * 1000),
            )
            self.namespaces[code.lower()] = namespace
        return Answer(200, namespace.document(listing=False))


def _error(
    status: int, title: str, description: str, code: str = "INVALID_REQUEST_PARAMS"
) -> Answer:
    return Answer(
        status,
        {
            "title": title,
            "status": status,
            "description": description,
            "type": "http://ns.adobe.com/adobecloud/problem/namespacevalidation",
            "report": {"code": code},
        },
    )
