"""The guardduty_detector module, driven through main() with stubbed GuardDuty (and STS) clients.

Only the calls a test expects are stubbed, so an unexpected CreateDetector or UpdateDetector fails it.
"""

import pytest
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.modules import guardduty_detector as module
from module_run import run_module

DETECTOR = "12abc34d567e8fa901bc2d34e56789f0"


@pytest.fixture
def clients(aws, monkeypatch):
    requested = []

    def client(self, service, retry_decorator=None, **extra_params):
        requested.append((service, extra_params.get("region"), retry_decorator is not None))
        return aws.client(service, extra_params.get("region") or self.region)

    monkeypatch.setattr(AnsibleAWSModule, "client", client)
    return requested


def run(args, capsys):
    return run_module(module.main, args, capsys)


def detector(aws, region, status="ENABLED", frequency="SIX_HOURS", tags=None):
    gd = aws.stub("guardduty", region)
    gd.add_response("list_detectors", {"DetectorIds": [DETECTOR]}, {})
    gd.add_response(
        "get_detector",
        {
            "ServiceRole": "arn:aws:iam::123456789012:role/aws-service-role/guardduty.amazonaws.com/x",
            "Status": status,
            "FindingPublishingFrequency": frequency,
            "Tags": tags or {},
        },
        {"DetectorId": DETECTOR},
    )


def none(aws, region):
    aws.stub("guardduty", region).add_response("list_detectors", {"DetectorIds": []}, {})


def test_creates_in_one_region_and_enables_in_another_with_diff(aws, clients, capsys):
    none(aws, "us-east-1")
    detector(aws, "us-west-2", status="DISABLED", frequency="FIFTEEN_MINUTES", tags={"Project": "medcircle"})
    aws.stub("guardduty", "us-east-1").add_response(
        "create_detector",
        {"DetectorId": "new"},
        {"Enable": True, "FindingPublishingFrequency": "FIFTEEN_MINUTES", "Tags": {"Project": "medcircle"}},
    )
    aws.stub("guardduty", "us-west-2").add_response(
        "update_detector", {}, {"DetectorId": DETECTOR, "Enable": True, "FindingPublishingFrequency": "FIFTEEN_MINUTES"}
    )
    rc, result = run(
        {
            "regions": ["us-east-1", "us-west-2"],
            "finding_publishing_frequency": "FIFTEEN_MINUTES",
            "tags": {"Project": "medcircle"},
            "_ansible_diff": True,
        },
        capsys,
    )
    assert rc == 0, result
    assert result["changed"] is True
    assert [(d["region"], d["detector_id"], d["status"], d["action"]) for d in result["detectors"]] == [
        ("us-east-1", "new", "ENABLED", "create"),
        ("us-west-2", DETECTOR, "ENABLED", "update"),
    ]
    assert result["diff"]["before"]["us-east-1"] is None
    assert result["diff"]["before"]["us-west-2"]["status"] == "DISABLED"
    for region in ("us-east-1", "us-west-2"):
        aws.stub("guardduty", region).assert_no_pending_responses()


def test_enabled_detector_is_unchanged_and_keeps_its_frequency(aws, clients, capsys):
    detector(aws, "us-east-1", frequency="ONE_HOUR")
    rc, result = run({}, capsys)
    assert rc == 0 and result["changed"] is False
    assert result["detectors"][0]["finding_publishing_frequency"] == "ONE_HOUR"


def test_check_mode_makes_no_change(aws, clients, capsys):
    none(aws, "us-east-1")
    rc, result = run({"_ansible_check_mode": True, "finding_publishing_frequency": "FIFTEEN_MINUTES"}, capsys)
    assert rc == 0 and result["changed"] is True
    assert result["detectors"][0]["action"] == "create" and result["detectors"][0]["detector_id"] is None


def test_missing_tag_is_added_to_an_existing_detector(aws, clients, capsys):
    detector(aws, "us-east-1", tags={"Owner": "secops"})
    aws.stub("sts", "us-east-1").add_response(
        "get_caller_identity",
        {"UserId": "AID", "Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/ops"},
        {},
    )
    aws.stub("guardduty", "us-east-1").add_response(
        "tag_resource",
        {},
        {
            "ResourceArn": f"arn:aws:guardduty:us-east-1:123456789012:detector/{DETECTOR}",
            "Tags": {"Project": "medcircle"},
        },
    )
    rc, result = run({"tags": {"Project": "medcircle"}}, capsys)
    assert rc == 0, result
    assert result["detectors"][0]["action"] == "tag"
    assert result["detectors"][0]["tags"] == {"Owner": "secops", "Project": "medcircle"}


def test_disabled_suspends_and_never_creates(aws, clients, capsys):
    none(aws, "us-west-2")
    detector(aws, "us-east-1")
    aws.stub("guardduty", "us-east-1").add_response("update_detector", {}, {"DetectorId": DETECTOR, "Enable": False})
    rc, result = run({"state": "disabled", "regions": ["us-east-1", "us-west-2"]}, capsys)
    assert rc == 0, result
    assert [(d["region"], d["status"], d["action"]) for d in result["detectors"]] == [
        ("us-east-1", "DISABLED", "update"),
        ("us-west-2", "NONE", "none"),
    ]


def test_bad_frequency_is_refused_by_the_option(aws, clients, capsys):
    rc, result = run({"finding_publishing_frequency": "DAILY"}, capsys)
    assert rc == 1 and "finding_publishing_frequency" in result["msg"]
    assert clients == []


def test_error_in_second_region_changes_nothing(aws, clients, capsys):
    none(aws, "us-east-1")
    aws.stub("guardduty", "us-west-2").add_client_error(
        "list_detectors", service_error_code="AccessDeniedException", service_message="no", http_status_code=403
    )
    rc, result = run({"regions": ["us-east-1", "us-west-2"]}, capsys)
    assert rc == 1 and "list GuardDuty detectors" in result["msg"]
