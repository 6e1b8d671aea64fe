"""The Singer SDK's standard target test suite, curated for a mapping target.

The suite's streams are not Stripe objects, so the test config maps each of them with the
`generic` mapping (the whole record under `_<tenant>.<stream>`, closed schema derived from the
stream's SCHEMA message), exactly as a user would map a stream that has no Stripe table.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from singer_sdk.testing import get_target_test_class
from singer_sdk.testing.suites import SingerTestSuite
from singer_sdk.testing.target_tests import (
    TargetArrayData,
    TargetCamelcaseComplexSchema,
    TargetCamelcaseTest,
    TargetCliPrintsTest,
    TargetDuplicateRecords,
    TargetEncodedStringData,
    TargetInvalidSchemaTest,
    TargetNoPrimaryKeys,
    TargetOptionalAttributes,
    TargetPrimaryKeyUpdates,
    TargetRecordBeforeSchemaTest,
    TargetRecordMissingKeyProperty,
    TargetRecordMissingOptionalFields,
    TargetSchemaNoProperties,
    TargetSchemaUpdates,
    TargetSpecialCharsInAttributes,
)
from target_aep.target import TargetAep

SUITE_STREAMS = (
    "ForecastingTypeToCategory",
    "TestCamelcase",
    "example_stream",
    "record_missing_fields",
    "test:SpecialChars!in?attributes",
    "test_array_data",
    "test_duplicate_records",
    "test_invalid_schema",
    "test_locations",
    "test_multiple_state_messages_a",
    "test_multiple_state_messages_b",
    "test_no_pk",
    "test_object_schema_no_properties",
    "test_object_schema_with_properties",
    "test_optional_attributes",
    "test_record_before_schema",
    "test_record_missing_key_property",
    "test_schema_updates",
    "test_strings",
    "test_strings_in_arrays",
    "test_strings_in_objects",
    "test_user_in_location",
    "test_users",
)

OUTPUT_DIR = Path(tempfile.mkdtemp(prefix="target-aep-sdk-suite-"))
SUITE_CONFIG = {
    "tenant_id": "acme",
    "output_dir": str(OUTPUT_DIR),
    # on_invalid_record stays dead_letter: the suite feeds records that break their own
    # schemas on purpose (e.g. schema_updates), which a user would want kept, not fatal.
    "streams": {name: {"mapping": "generic"} for name in SUITE_STREAMS},
}

target_suite = SingerTestSuite(
    kind="target",
    tests=[
        TargetArrayData,
        TargetCamelcaseComplexSchema,
        TargetCamelcaseTest,
        TargetCliPrintsTest,
        TargetDuplicateRecords,
        TargetEncodedStringData,
        TargetInvalidSchemaTest,
        TargetNoPrimaryKeys,
        TargetOptionalAttributes,
        TargetPrimaryKeyUpdates,
        TargetRecordBeforeSchemaTest,
        TargetRecordMissingKeyProperty,
        TargetRecordMissingOptionalFields,
        TargetSchemaNoProperties,
        TargetSchemaUpdates,
        TargetSpecialCharsInAttributes,
        # TargetMultipleStateMessages is left out: in SDK 0.54 it compares the runner's parsed
        # state dicts with JSON strings, so no target can pass it (it is not in the SDK's
        # default suite either); STATE-after-files is proven by tests/target/test_target.py.
        # TargetRecordMissingRequiredProperty is left out: it expects the SDK's validation of
        # the *input* record, which this target replaces by validating the mapped XDM (an
        # input missing a field is mapped without it, then judged against the dataset schema).
    ],
)

_StandardTests = get_target_test_class(
    TargetAep,
    config=SUITE_CONFIG,
    custom_suites=[target_suite],
    include_target_tests=False,
)


@pytest.fixture(scope="module", autouse=True)
def _remove_suite_output():
    yield
    shutil.rmtree(OUTPUT_DIR, ignore_errors=True)


class TestTargetAepStandardSuite(_StandardTests):
    """The SDK's target tests, against the files destination in a temporary folder."""
