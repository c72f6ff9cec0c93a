# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""GuardDuty detectors, one per region (finding 2.11).

Used by the guardduty_detector module. Functions take boto3 clients (wrapped by
AnsibleAWSModule.client with a retry decorator) and never the module, so the
logic is tested with botocore's Stubber.

A region has at most one detector per account. plan_region() reads it
(ListDetectors, GetDetector) and works out the change; apply_plan() creates or
updates it. ensure_detectors() plans every region before it changes any.
A detector is never deleted: state=disabled suspends it (UpdateDetector
Enable=false), which keeps its findings.
"""

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError

FREQUENCIES = ("FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS")


class GuardDutyError(AnsibleAWSError):
    pass


class GuardDutyErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = GuardDutyError


@GuardDutyErrorHandler.common_error_handler("list GuardDuty detectors")
def list_detectors(client):
    paginator = client.get_paginator("list_detectors")
    return AWSRetry.jittered_backoff()(paginator.paginate().build_full_result)().get("DetectorIds", [])


@GuardDutyErrorHandler.common_error_handler("get a GuardDuty detector")
def get_detector(client, detector_id):
    return client.get_detector(DetectorId=detector_id, aws_retry=True)


@GuardDutyErrorHandler.common_error_handler("create a GuardDuty detector")
def create_detector(client, enable, frequency, tags):
    params = {"Enable": enable}
    if frequency:
        params["FindingPublishingFrequency"] = frequency
    if tags:
        params["Tags"] = tags
    return client.create_detector(aws_retry=True, **params)["DetectorId"]


@GuardDutyErrorHandler.common_error_handler("update a GuardDuty detector")
def update_detector(client, detector_id, enable, frequency):
    params = {"DetectorId": detector_id, "Enable": enable}
    if frequency:
        params["FindingPublishingFrequency"] = frequency
    client.update_detector(aws_retry=True, **params)


@GuardDutyErrorHandler.common_error_handler("tag a GuardDuty detector")
def tag_detector(client, arn, tags):
    client.tag_resource(ResourceArn=arn, Tags=tags, aws_retry=True)


def validate(frequency, tags):
    if frequency is not None and frequency not in FREQUENCIES:
        raise ParameterError(
            "finding_publishing_frequency", frequency, "is not a GuardDuty frequency", ", ".join(FREQUENCIES)
        )
    for key, value in (tags or {}).items():
        if not isinstance(key, str) or not key or not isinstance(value, str):
            raise ParameterError("tags", {key: value}, "is not a tag", "a dict of string keys to string values")


def plan_region(client, region, enabled, frequency, tags):
    """The detector of the region before and after, and the action (none, create, update) - read-only."""
    ids = list_detectors(client)
    before = None
    detector_id = ids[0] if ids else None
    if detector_id:
        detail = get_detector(client, detector_id)
        before = {
            "detector_id": detector_id,
            "status": detail.get("Status"),
            "finding_publishing_frequency": detail.get("FindingPublishingFrequency"),
            "tags": detail.get("Tags") or {},
        }
    want_status = "ENABLED" if enabled else "DISABLED"
    entry = {"region": region, "before": before, "action": None, "tags_to_add": {}}
    if before is None:
        if not enabled:
            entry["after"] = None
            return entry
        entry["action"] = "create"
        entry["after"] = {
            "detector_id": None,
            "status": want_status,
            "finding_publishing_frequency": frequency or "SIX_HOURS",
            "tags": dict(tags or {}),
        }
        return entry
    after = dict(before, tags=dict(before["tags"]))
    if before["status"] != want_status or (frequency and before["finding_publishing_frequency"] != frequency):
        entry["action"] = "update"
        after["status"] = want_status
        if frequency:
            after["finding_publishing_frequency"] = frequency
    missing = {k: v for k, v in (tags or {}).items() if before["tags"].get(k) != v}
    if missing:
        entry["tags_to_add"] = missing
        after["tags"].update(missing)
    entry["after"] = after
    return entry


def apply_plan(client, entry, enabled, frequency, tags, account_partition_prefix):
    if entry["action"] == "create":
        entry["after"]["detector_id"] = create_detector(client, enabled, frequency, tags)
    elif entry["action"] == "update":
        update_detector(client, entry["before"]["detector_id"], enabled, frequency)
    if entry["tags_to_add"] and entry["before"]:
        arn = "%s:detector/%s" % (account_partition_prefix(entry["region"]), entry["before"]["detector_id"])
        tag_detector(client, arn, entry["tags_to_add"])


def ensure_detectors(clients, regions, state="enabled", frequency=None, tags=None, check_mode=False, arn_prefix=None):
    """Plan every region, then (unless check_mode) create or update the detectors that differ.

    ``arn_prefix(region)`` returns ``arn:<partition>:guardduty:<region>:<account>`` (needed only to tag an
    existing detector). Returns {changed, detectors, diff}.
    """
    validate(frequency, tags)
    enabled = state == "enabled"
    plans = [plan_region(clients[region], region, enabled, frequency, tags) for region in regions]
    if not check_mode:
        for entry in plans:
            apply_plan(clients[entry["region"]], entry, enabled, frequency, tags, arn_prefix)
    detectors = []
    for entry in plans:
        after = entry["after"] or {}
        detectors.append(
            {
                "region": entry["region"],
                "detector_id": after.get("detector_id"),
                "status": after.get("status") or "NONE",
                "finding_publishing_frequency": after.get("finding_publishing_frequency"),
                "tags": after.get("tags") or {},
                "action": entry["action"] or ("tag" if entry["tags_to_add"] else "none"),
                "changed": bool(entry["action"] or entry["tags_to_add"]),
            }
        )
    diff = {
        "before": {e["region"]: e["before"] for e in plans},
        "after": {e["region"]: e["after"] for e in plans},
    }
    return {"changed": any(d["changed"] for d in detectors), "detectors": detectors, "diff": diff}
