"""Field names: Stripe's snake_case -> the camelCase XDM names the tenant area uses.

Custom XDM field names may hold letters, digits, `-` and `_`, must not start with `_` (only the
tenant root `_<tenant>` does) and are camelCase by convention
(https://experienceleague.adobe.com/en/docs/experience-platform/xdm/api/getting-started).
"""

from __future__ import annotations

_CAMEL_CACHE: dict[str, str] = {}


def camel_case(name: str) -> str:
    """Stripe's snake_case -> XDM's camelCase (`amount_captured` -> `amountCaptured`).

    Cached: the same few hundred field names come back on every record. Characters Platform does
    not allow in field names become `_`, and a leading `_` is dropped.
    """
    cached = _CAMEL_CACHE.get(name)
    if cached is not None:
        return cached
    cleaned = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
    head, *rest = [part for part in cleaned.split("_") if part] or ["field"]
    result = head[:1].lower() + head[1:] + "".join(p[:1].upper() + p[1:] for p in rest)
    if result[:1].isdigit():
        result = "f" + result
    if len(_CAMEL_CACHE) < 10_000:
        _CAMEL_CACHE[name] = result
    return result
