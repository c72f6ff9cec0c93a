"""GuardDuty TagResource, UntagResource and ListTagsForResource, which moto lacks.

A detector's tags live on moto's detector (``Detector.tags``, a map), so GetDetector answers them. The resource is
named by its ARN, ``arn:aws:guardduty:<region>:<account>:detector/<id>``; a detector that does not exist in the
request's account and region is AWS's BadRequestException. Filters, IP sets and threat intel sets are not
modelled: their ARNs get the same error.
"""

import re

from sandbox.additions import AdditionError, addition

_DETECTOR_ARN = re.compile(r"^arn:aws[a-z-]*:guardduty:([a-z0-9-]+):(\d{12}):detector/([0-9a-z]+)$")


def _detector(ctx, arn):
    match = _DETECTOR_ARN.match(arn or "")
    if match and (match.group(1), match.group(2)) == (ctx.region, ctx.account_id):
        detector = ctx.backend("guardduty").detectors.get(match.group(3))
        if detector is not None:
            return detector
    raise AdditionError(
        "BadRequestException", f"The request is rejected because the input resourceArn {arn} is not valid."
    )


def _example_arn(client):
    detector = client("guardduty").create_detector(Enable=True)["DetectorId"]
    account = client("sts").get_caller_identity()["Account"]
    return f"arn:aws:guardduty:us-east-1:{account}:detector/{detector}"


@addition("guardduty", "TagResource", example=lambda client: {"ResourceArn": _example_arn(client), "Tags": {"a": "b"}})
def tag_resource(ctx):
    detector = _detector(ctx, ctx.require("ResourceArn"))
    detector.tags = {**(detector.tags or {}), **ctx.require("Tags")}
    return {}


@addition("guardduty", "UntagResource", example=lambda client: {"ResourceArn": _example_arn(client), "TagKeys": ["a"]})
def untag_resource(ctx):
    detector = _detector(ctx, ctx.require("ResourceArn"))
    remove = set(ctx.require("TagKeys"))
    detector.tags = {k: v for k, v in (detector.tags or {}).items() if k not in remove}
    return {}


@addition("guardduty", "ListTagsForResource", example=lambda client: {"ResourceArn": _example_arn(client)})
def list_tags_for_resource(ctx):
    return {"Tags": dict(_detector(ctx, ctx.require("ResourceArn")).tags or {})}
