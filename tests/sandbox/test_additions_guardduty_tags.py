"""GuardDuty detector tags in the sandbox (sandbox/additions/guardduty_tags.py): TagResource, UntagResource and
ListTagsForResource on moto's detector, which GetDetector then answers."""

import pytest
from botocore.exceptions import ClientError


def test_a_detector_is_tagged_listed_and_untagged(clean_sandbox):
    guardduty = clean_sandbox.client("guardduty", "us-west-2")
    account = clean_sandbox.client("sts").get_caller_identity()["Account"]
    detector = guardduty.create_detector(Enable=True, Tags={"Owner": "security"})["DetectorId"]
    arn = f"arn:aws:guardduty:us-west-2:{account}:detector/{detector}"

    guardduty.tag_resource(ResourceArn=arn, Tags={"Project": "medcircle", "Owner": "soc"})
    assert guardduty.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"Owner": "soc", "Project": "medcircle"}
    assert guardduty.get_detector(DetectorId=detector)["Tags"] == {"Owner": "soc", "Project": "medcircle"}

    guardduty.untag_resource(ResourceArn=arn, TagKeys=["Owner"])
    assert guardduty.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"Project": "medcircle"}


@pytest.mark.parametrize("region", ["us-west-2", "us-east-1"])
def test_an_unknown_detector_or_another_regions_is_refused(clean_sandbox, region):
    account = clean_sandbox.client("sts").get_caller_identity()["Account"]
    detector = clean_sandbox.client("guardduty", "us-west-2").create_detector(Enable=True)["DetectorId"]
    known = region == "us-west-2"
    arn = f"arn:aws:guardduty:us-west-2:{account}:detector/{detector if not known else '0' * 32}"
    with pytest.raises(ClientError) as refused:
        clean_sandbox.client("guardduty", region).tag_resource(ResourceArn=arn, Tags={"a": "b"})
    assert refused.value.response["Error"]["Code"] == "BadRequestException"
