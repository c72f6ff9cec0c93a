"""audit.sdk: timestamps read directly are the values botocore's own parser returns; anything else is botocore's."""

import datetime

import pytest
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit import sdk
from botocore.awsrequest import AWSResponse
from botocore.utils import parse_timestamp

AWS_FORM = [
    "2026-06-30T12:00:00.000Z",
    "2026-06-30T12:00:00Z",
    "2000-01-01T00:00:00.5Z",
    "2026-12-31T23:59:59.999999Z",
    "2026-06-30T12:00:00.123456789Z",  # more digits than a datetime holds: cut as botocore cuts them
    "2024-02-29T08:15:30.010Z",
]
OTHER_FORMS = [
    "2026-06-30T12:00:00+00:00",
    "2026-06-30T14:00:00+02:00",
    "2026-06-30 12:00:00Z",
    "Wed, 02 Dec 2026 10:00:00 GMT",
    "1700000000",
    1700000000,
    1700000000.25,
]
NOT_TIMESTAMPS = [
    "2026-06-30T12:00:00.Z",
    "2026-02-30T12:00:00Z",
    "2026-13-01T00:00:00Z",
    "not a time",
    "2026-06-30T12:00:6xZ",
]


@pytest.mark.parametrize("value", AWS_FORM + OTHER_FORMS)
def test_the_same_instant_as_botocore(value):
    ours, theirs = sdk.fast_timestamp(value), parse_timestamp(value)
    assert ours == theirs
    assert ours.utcoffset() == theirs.utcoffset()


@pytest.mark.parametrize("value", AWS_FORM)
def test_the_aws_form_is_read_directly(value, monkeypatch):
    monkeypatch.setattr(sdk.botocore.utils, "parse_timestamp", lambda v: pytest.fail(f"handed to botocore: {v}"))
    when = sdk.fast_timestamp(value)
    assert when.utcoffset() == datetime.timedelta(0)
    assert when.isoformat().startswith(value[:19].replace(" ", "T"))


@pytest.mark.parametrize("value", NOT_TIMESTAMPS)
def test_what_botocore_refuses_is_refused(value):
    with pytest.raises(ValueError) as theirs:
        parse_timestamp(value)
    with pytest.raises(ValueError) as ours:
        sdk.fast_timestamp(value)
    assert str(ours.value) == str(theirs.value)


VOLUMES = b"""<?xml version="1.0" encoding="UTF-8"?>
<DescribeVolumesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>r-1</requestId>
  <volumeSet><item><volumeId>vol-1</volumeId><createTime>2026-06-30T12:00:00.000Z</createTime></item></volumeSet>
</DescribeVolumesResponse>"""


def _answer_with(body):
    def before_send(request, **_kwargs):
        return AWSResponse(request.url, 200, {}, _Raw(body))

    return before_send


class _Raw:
    def __init__(self, body):
        self.body = body

    def stream(self, **_kwargs):
        yield self.body


def _volumes(session):
    ec2 = session.client("ec2", region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x")
    ec2.meta.events.register("before-send", _answer_with(VOLUMES))
    return ec2.describe_volumes()["Volumes"]


def test_the_session_clients_read_timestamps_with_it(monkeypatch):
    seen = []
    original = sdk.fast_timestamp

    def spy(value):
        seen.append(value)
        return original(value)

    monkeypatch.setattr(sdk, "fast_timestamp", spy)
    volumes = _volumes(sdk.audit_session())
    assert volumes == [{"VolumeId": "vol-1", "CreateTime": datetime.datetime(2026, 6, 30, 12, tzinfo=datetime.UTC)}]
    assert seen == ["2026-06-30T12:00:00.000Z"]
    seen.clear()
    assert _volumes(sdk.boto3.session.Session()) == volumes  # another session: botocore's own parser
    assert seen == []
