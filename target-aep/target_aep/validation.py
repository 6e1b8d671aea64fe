"""Validate mapped XDM records the way Platform will: against the dataset's schema, objects closed.

Where a dataset's schema comes from, in order: the Schema Registry (the stream has `schema_id`
and Adobe credentials are configured), a file (`streams.<name>.schema_path`), or the target's
built-in Platform-form schema for the stream's mapping plus the tenant area derived from the
Singer schema. Every source is closed the same way (`close_objects`) because Platform rejects
unknown keys ("extraneous key [x] is not permitted",
https://experienceleague.adobe.com/en/docs/experience-platform/ingestion/quality/streaming-validation).

Cost: the hot path is `accepting_source`'s check, Python generated once from the schema: a
closed object by a function generated for its key sequence on first sight (only the fields it
holds are read), plain leaves by their exact class, string keywords (enum, pattern, lengths,
formats) as fastjsonschema checks them. It only ever *accepts*: what it does not accept, and
any subschema with another keyword (checked by fastjsonschema compiled for that subschema), is
decided by the fastjsonschema-compiled whole schema, so the verdict is always fastjsonschema's.
Only a record that fails is checked again with jsonschema, which lists *every* error with its
path for the dead-letter file.

A NaN or an infinity is no JSON number (RFC 8259, section 6:
https://www.rfc-editor.org/rfc/rfc8259#section-6): a record holding one is invalid here, with its
path, whatever the schema says. The generated check accepts a float only when it is finite; when
every value it accepts has had its class checked (`finite_proof`), an accepted record holds no
such number, otherwise (untyped or open parts, numbers checked by fastjsonschema) the record is
looked at once more (json_encoding.non_finite_in). So an accepted record's JSON needs no second
look (json_encoding.valid_json).
"""

from __future__ import annotations

import copy
import json
import linecache
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema

from target_aep.errors import SchemaSourceError
from target_aep.json_encoding import non_finite_in

_SCHEMA_KEYWORDS_WITH_SUBSCHEMAS = ("items", "additionalItems", "not", "contains")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf")
_SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "$defs")  # name -> subschema


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
        if key in _SCHEMA_MAPS:
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


# JSON types -> the exact classes of a decoded or mapped value of that type. Anything else (a
# float 1.0 for an integer, a Decimal) is not accepted here: fastjsonschema decides.
_CLASSES = {
    "string": ("str",),
    "integer": ("int",),
    "number": ("int", "float"),
    "boolean": ("bool",),
    "null": ("NoneType",),
}
# Keys fastjsonschema ignores; any other key than these and the structural ones sends its
# subschema to fastjsonschema.
_ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "$comment", "readOnly", "writeOnly",
     "deprecated", "$id"}
)  # fmt: skip
_STRUCTURE = frozenset({"type", "properties", "additionalProperties", "required", "items"})
# The patterns fastjsonschema checks formats with, for a schema without `$schema` (its default
# draft, 2019-09).
_FORMATS = fastjsonschema.draft2019.CodeGeneratorDraft2019.FORMAT_REGEXS


class _Source:
    """The generated functions' source and the names it uses."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {"NoneType": type(None), "MISSING": object()}
        # Generated function name -> the node name of a closed object (`_KeySequences`), and
        # of an array of such objects -> its items' node name.
        self.closed_objects: dict[str, str] = {}
        self.node_of_schema: dict[int, str] = {}  # id of a closed object's schema -> its node
        self.arrays_of_closed: dict[str, str] = {}
        # False once any part accepts a value without checking its class (see the module doc)
        self.finite_proof = True

    def name(self, value: Any, prefix: str) -> str:
        key = f"{prefix}_{len(self.names)}"
        self.names[key] = value
        return key


def _class_test(value: str, classes: tuple[str, ...]) -> str:
    return " and ".join(f"{value}.__class__ is not {name}" for name in classes)


# A number leaf: an int, or a finite float (x - x is 0.0 for a finite float, NaN otherwise).
_NUMBER_TEST = "{v}.__class__ is not int and ({v}.__class__ is not float or {v} - {v} != 0.0)"
# What fastjsonschema's own checks may accept for a declared type: a number only after the
# guard; an object or array holds values of unchecked classes.
_SCALARS_WITHOUT_NUMBERS = frozenset({"string", "integer", "boolean", "null"})
_NON_FINITE_GUARD = "if value.__class__ is float and value - value != 0.0: return False"


def _delegated_lines(schema: Any, out: _Source, check_name: str) -> list[str]:
    """A subschema fastjsonschema checks: its call, after the finiteness guard where it may
    accept a number; one that may accept an object or array ends `finite_proof`."""
    failure = out.name(fastjsonschema.JsonSchemaValueException, "FAILURE")
    lines = ["try:", f"    {check_name}(value)", f"except {failure}:", "    return False"]
    declared = schema.get("type") if isinstance(schema, dict) else None
    types = {declared} if isinstance(declared, str) else set(declared or ())
    if not types or not types <= _SCALARS_WITHOUT_NUMBERS | {"number"}:
        out.finite_proof = False
    elif "number" in types:
        lines.insert(0, _NON_FINITE_GUARD)
    return lines


def _leaf_test(schema: Any, out: _Source, value: str, formats: bool) -> str | None:
    """A condition true when `value` is *not* accepted, for a leaf; None: not a plain leaf."""
    if not isinstance(schema, dict):
        return None
    keys = {key for key in schema if key not in _ANNOTATIONS and not key.startswith("meta:")}
    declared = schema.get("type")
    if not keys:
        out.finite_proof = False  # anything goes here
        return "False"
    if not isinstance(declared, str) or declared not in _CLASSES:
        return None
    if keys == {"type"}:
        if declared == "number":
            return _NUMBER_TEST.format(v=value)
        return _class_test(value, _CLASSES[declared])
    if declared == "string" and keys <= _STRING_KEYWORDS and (formats or "format" not in keys):
        return _string_test(schema, out, value)
    return None


# String keywords decided here as fastjsonschema decides them (its draft04 generator): an enum
# of strings by equality, `pattern` by `re.search` with each unescaped `$` read as `\Z`,
# lengths in code points, a format by its pattern (`re.match`).
_STRING_KEYWORDS = frozenset({"type", "format", "enum", "pattern", "minLength", "maxLength"})
_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")


def _string_test(schema: dict, out: _Source, value: str) -> str | None:
    """A condition true when the string leaf `value` is *not* accepted; None: not decided here."""
    tests = [f"{value}.__class__ is not str"]
    if "enum" in schema:
        enum = schema["enum"]
        if not isinstance(enum, list) or not all(type(option) is str for option in enum):
            return None
        tests.append(f"{value} not in {out.name(frozenset(enum), 'ENUM')}")
    for keyword, operator in (("minLength", "<"), ("maxLength", ">")):
        if keyword in schema:
            bound = schema[keyword]
            if type(bound) is not int:
                return None
            tests.append(f"len({value}) {operator} {bound}")
    if "pattern" in schema:
        try:
            compiled = re.compile(_UNESCAPED_DOLLAR.sub(r"\\Z", schema["pattern"]))
        except (re.error, TypeError):
            return None
        tests.append(f"not {out.name(compiled, 'PATTERN')}.search({value})")
    if "format" in schema:
        pattern = _FORMATS.get(schema["format"])
        if pattern is not None:  # else a format fastjsonschema does not check
            tests.append(f"not {out.name(re.compile(pattern), 'FORMAT')}.match({value})")
    return " or ".join(tests)


# Closed objects are checked by a function generated for their key sequence (a record's keys,
# in order: records of one stream nearly always share them), which reads exactly the fields
# present instead of looking up every declared one: a charge's `commerce` holds 2 of the 23
# its field group declares, and a Schema Registry schema with many field groups declares
# hundreds. Up to this many sequences per object; its other values take the generic function.
_SEQUENCES_PER_OBJECT = 64


def _dispatch(variable: str, node: str, indent: str) -> list[str]:
    """Lines returning False unless the closed object `variable` is accepted by the function
    of its key sequence (generated on first sight)."""
    return [
        f"{indent}check = SEQ_{node}.get(tuple({variable}))",
        f"{indent}if check is None: check = SPECIALIZE_{node}({variable})",
        f"{indent}if not check({variable}): return False",
    ]


def _field_lines(key: str, function: str, test: str, out: _Source) -> list[str]:
    """One present field's lines in a key sequence's function: a closed object (or an array of
    them) is dispatched inline by its own key sequence; anything else calls its function."""
    lines = [f"item = value[{key!r}]"]
    if function in out.closed_objects:
        lines.append("if item.__class__ is not dict: return False")
        return lines + _dispatch("item", out.closed_objects[function], "")
    if function in out.arrays_of_closed:
        lines += ["if item.__class__ is not list: return False", "for element in item:",
                  "    if element.__class__ is not dict: return False"]  # fmt: skip
        return lines + _dispatch("element", out.arrays_of_closed[function], "    ")
    return [*lines, f"if {test}: return False"]


class _KeySequences:
    """A closed object's functions per key sequence, generated on first sight of each."""

    def __init__(
        self,
        generic: str,
        checks: dict[str, list[str]],
        required: frozenset[str],
        sequences: dict[tuple, Any],
        namespace: dict[str, Any],
    ) -> None:
        self.generic = generic  # the function checking any value (every declared field)
        self.checks = checks  # per declared field: its lines when present
        self.required = required
        self.sequences = sequences  # the SEQ_ dict the generated code reads
        self.namespace = namespace  # the generated module's globals

    def __call__(self, value: dict) -> Callable[[Any], bool]:
        keys = tuple(value)
        if len(self.sequences) >= _SEQUENCES_PER_OBJECT:
            generic: Callable[[Any], bool] = self.namespace[self.generic]
            return generic
        if not self.required.issubset(keys) or not all(
            type(key) is str and key in self.checks for key in keys
        ):
            function: Callable[[Any], bool] = _never  # fastjsonschema decides (and refuses)
        else:
            body = [line for key in keys for line in self.checks[key]]
            source = "\n".join(["def by_keys(value):", *("    " + line for line in body),
                                "    return True", ""])  # fmt: skip
            local: dict[str, Any] = {}
            exec(compile(source, f"<target_aep validation {self.generic} keys>", "exec"),
                 self.namespace, local)  # fmt: skip  # the source is ours
            function = local["by_keys"]
        self.sequences[keys] = function
        return function


def _function(schema: Any, out: _Source, formats: bool) -> str:
    """The name of a generated function returning True only for what `schema` accepts."""
    name = out.name(None, "accepts")
    body: list[str] = []
    declared = schema.get("type") if isinstance(schema, dict) else None
    keys = (
        {key for key in schema if key not in _ANNOTATIONS and not key.startswith("meta:")}
        if isinstance(schema, dict)
        else set()
    )
    if not isinstance(schema, dict) or not keys <= _STRUCTURE:
        check = fastjsonschema.compile(schema, use_default=False, detailed_exceptions=False)
        body = _delegated_lines(schema, out, out.name(check, "FASTJSONSCHEMA"))
    elif declared == "object" or (declared is None and keys & {"properties", "required"}):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        body.append("if value.__class__ is not dict: return False")
        if extra is False:
            known = out.name(frozenset(properties), "KEYS")
            body.append(f"if not {known}.issuperset(value): return False")
        if schema.get("required"):
            required = out.name(frozenset(schema["required"]), "REQUIRED")
            body.append(f"if not {required} <= value.keys(): return False")
        checks: dict[str, list[str]] = {}  # per field: its lines in a key sequence's function
        for key, sub in properties.items():
            test = _leaf_test(sub, out, "item", formats)
            if test is None:
                function = _function(sub, out, formats)
                test = f"not {function}(item)"
                checks[key] = _field_lines(key, function, test, out)
            else:
                checks[key] = [f"item = value[{key!r}]", f"if {test}: return False"]
            if test != "False":
                body.append(f"item = value.get({key!r}, MISSING)")
                body.append(f"if item is not MISSING and ({test}): return False")
            else:
                checks[key] = []
        if extra is False:
            node = name.replace("accepts_", "")
            sequences: dict[tuple, Any] = {}
            out.names[f"SEQ_{node}"] = sequences
            out.names[f"SPECIALIZE_{node}"] = _KeySequences(
                name, checks, frozenset(schema.get("required") or ()), sequences, out.names
            )
            out.closed_objects[name] = node
            out.node_of_schema[id(schema)] = node
        if extra is True or extra == {}:
            out.finite_proof = False  # keys beyond the declared ones hold anything
        if extra is not False and extra is not True and extra != {}:
            test = _leaf_test(extra, out, "item", formats)
            if test is None:
                test = f"not {_function(extra, out, formats)}(item)"
            known = out.name(frozenset(properties), "KEYS")
            body.append("for key, item in value.items():")
            body.append(f"    if key not in {known} and ({test}): return False")
    elif declared == "array" and not isinstance(schema.get("items"), list):
        body.append("if value.__class__ is not list: return False")
        items = schema.get("items", True)
        if items is True or items == {}:
            out.finite_proof = False  # items of any class
        if items is not True and items != {}:
            test = _leaf_test(items, out, "item", formats)
            if test is None:
                test = f"not {_function(items, out, formats)}(item)"
            body.append("for item in value:")
            body.append(f"    if {test}: return False")
            item_function = test[len("not ") : -len("(item)")] if test.startswith("not ") else ""
            if item_function in out.closed_objects:
                out.arrays_of_closed[name] = out.closed_objects[item_function]
    else:
        test = _leaf_test(schema, out, "value", formats)
        if test is None:
            check = fastjsonschema.compile(schema, use_default=False, detailed_exceptions=False)
            body = _delegated_lines(schema, out, out.name(check, "FASTJSONSCHEMA"))
        else:
            body.append(f"if {test}: return False")
    out.lines += [f"def {name}(value):", *("    " + line for line in body), "    return True", ""]
    return name


def accepting_source(schema: dict) -> tuple[str, dict[str, Any]] | None:
    """Python source of `accepts(record)` for `schema` and the names it uses; None for a schema
    it cannot follow (one with `$ref`, resolved against the whole schema)."""
    if '"$ref"' in json.dumps(schema):
        return None
    out = _Source()
    root = _function(schema, out, formats="$schema" not in schema)
    node = out.closed_objects.get(root)
    if node is not None:  # a record is checked by the function of its key sequence
        root = f"{root}_by_keys"
        out.lines += [
            f"def {root}(value):",
            "    if value.__class__ is not dict: return False",
            *_dispatch("value", node, "    "),
            "    return True",
            "",
        ]
    out.lines.append(f"accepts = {root}")
    out.names["NODE_OF_SCHEMA"] = out.node_of_schema
    out.names["FINITE_PROOF"] = out.finite_proof
    return "\n".join(out.lines) + "\n", out.names


_COMPILED = [0]


def source_label(source: str) -> str:
    """A unique pseudo-file name part for one generated check (tracebacks show its lines)."""
    _COMPILED[0] += 1
    return f"#{_COMPILED[0]}"


def _never(record: Any) -> bool:
    return False


def _comparable(schema: Any) -> Any:
    """`schema` without the annotations fastjsonschema ignores (titles, `meta:*`), so that a
    Schema Registry field and the same field derived from a Singer schema compare equal."""
    if isinstance(schema, list):
        return [_comparable(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    kept: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _ANNOTATIONS or key.startswith("meta:"):
            continue
        if key in _SCHEMA_MAPS:
            kept[key] = {name: _comparable(sub) for name, sub in value.items()}
        else:
            kept[key] = _comparable(value)
    return kept


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
        generated = accepting_source(self.schema)
        self._accepts: Callable[[Any], bool] = _never
        self._names: dict[str, Any] = {}  # the generated module's globals
        # whether what `_accepts` accepts holds no NaN or infinity (see the module doc)
        self.finite_proof = False
        if generated is not None:
            source, names = generated
            self._names = names
            filename = f"<target_aep validation {source_label(source)}>"
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            exec(compile(source, filename, "exec"), names)  # the source is ours
            self._accepts = names["accepts"]
            self.finite_proof = bool(names["FINITE_PROOF"])
        self._explain = jsonschema.Draft6Validator(
            self.schema, format_checker=jsonschema.Draft6Validator.FORMAT_CHECKER
        )

    def accepting_with_known(
        self, path: tuple[str, ...], known: Mapping[str, Any]
    ) -> Callable[[Any], bool] | None:
        """A fast check for records whose fields `known` (name -> schema) of the closed object
        at `path` are already known to fit those schemas (valid by construction: see
        mapping/tenant.py): it does not read the fields this schema declares with the same
        schema (annotations aside). Like the fast check it only ever accepts; what it does not,
        `is_valid` decides; without `finite_proof`, a record it accepts gets the same second
        look. None when there is no closed object at `path`, or none is alike."""
        names = self._names
        nodes: dict[int, str] = names.get("NODE_OF_SCHEMA") or {}
        schemas = [self.schema]  # the closed objects from the record down to `path`
        for segment in path:
            properties = schemas[-1].get("properties")
            if not isinstance(properties, dict) or not isinstance(properties.get(segment), dict):
                return None
            schemas.append(properties[segment])
        path_nodes = [nodes.get(id(schema)) for schema in schemas]
        if None in path_nodes:
            return None  # not closed objects checked by key sequence
        declared = schemas[-1].get("properties", {})
        alike = [
            name
            for name, schema in known.items()
            if name in declared
            and _comparable(declared[name]) == _comparable(close_objects(schema))
        ]
        if not alike:
            return None
        # The same generated module, with a second set of key-sequence functions for the
        # objects on the path: the last one's vouched-for fields are not read, each parent
        # dispatches its child on the path to that child's second set. Nothing is compiled
        # now; each key sequence's function is generated on first sight, as for the first set.
        for depth in reversed(range(len(schemas))):
            node = str(path_nodes[depth])
            first: _KeySequences = names[f"SPECIALIZE_{node}"]
            checks = dict(first.checks)
            if depth == len(schemas) - 1:
                for name in alike:
                    checks[name] = []  # known to fit
            else:
                child = str(path_nodes[depth + 1])
                lines = checks.get(path[depth], [])
                if not any(f"SEQ_{child}." in line for line in lines):
                    return None
                checks[path[depth]] = [
                    line.replace(f"SEQ_{child}.", f"SEQ_{child}_known.").replace(
                        f"SPECIALIZE_{child}(", f"SPECIALIZE_{child}_known("
                    )
                    for line in lines
                ]
            sequences: dict[tuple, Any] = {}
            names[f"SEQ_{node}_known"] = sequences
            names[f"SPECIALIZE_{node}_known"] = _KeySequences(
                first.generic, checks, first.required, sequences, names
            )
        root_sequences = names[f"SEQ_{path_nodes[0]}_known"]
        specialize = names[f"SPECIALIZE_{path_nodes[0]}_known"]
        finite_proof = self.finite_proof

        def accepts(record: Any) -> bool:
            if record.__class__ is not dict:
                return False
            check = root_sequences.get(tuple(record))
            if check is None:
                check = specialize(record)
            return bool(check(record)) and (finite_proof or non_finite_in(record) is None)

        return accepts

    def is_valid(self, record: Mapping[str, Any]) -> bool:
        """Whether `record` is valid and holds no NaN or infinity (no explanation)."""
        if self._accepts(record):
            return self.finite_proof or non_finite_in(record) is None
        try:
            self._check(record)
        except fastjsonschema.JsonSchemaValueException:
            return False
        return non_finite_in(record) is None

    def errors(self, record: Mapping[str, Any]) -> list[ValidationError]:
        """Every error of `record` (empty list when valid). Fast when valid."""
        found: list[ValidationError] = []
        if self._accepts(record):  # valid for the schema: a NaN is all there can be
            if self.finite_proof:
                return []
            path = non_finite_in(record)
        else:
            try:
                self._check(record)
            except fastjsonschema.JsonSchemaValueException as first:
                found = self._explain_all(record, first)
            path = non_finite_in(record)
        if path is not None and all(error.path != path for error in found):
            message = f"{path} is NaN or infinite; JSON has no such number"
            found.append(ValidationError(path=path, message=message, keyword="type"))
        return found

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
