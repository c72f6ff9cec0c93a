"""sandbox/speed.py: each shortcut answers exactly what moto's own code answers."""

import json
import re

import boto3
import pytest
from moto import mock_aws
from moto.core import responses
from moto.core.utils import method_names_from_class
from moto.ec2.responses import EC2Response
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.s3.responses import S3Response

from sandbox import speed


def test_ec2_tags_are_the_ones_moto_scans_for():
    speed.apply()
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        ec2.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": "v"}, {"Key": "Tier", "Value": "data"}])
        group = ec2.create_security_group(GroupName="g", Description="d", VpcId=vpc)["GroupId"]
        ec2.create_tags(Resources=[group], Tags=[{"Key": "Name", "Value": "g"}])
        untagged = ec2.create_security_group(GroupName="u", Description="d", VpcId=vpc)["GroupId"]
        from moto.ec2.models import ec2_backends
        from moto.ec2.models.core import TaggedEC2Resource

        backend = ec2_backends["123456789012"]["us-east-1"]
        fast = TaggedEC2Resource.get_tags
        moto_own = fast.original
        resources = [backend.get_vpc(vpc), backend.get_security_group_from_id(group)]
        resources.append(backend.get_security_group_from_id(untagged))
        for resource in resources:
            assert fast(resource) == moto_own(resource)
        assert fast(resources[0]) == [
            {"resource_id": vpc, "key": "Name", "value": "v", "resource_type": "vpc"},
            {"resource_id": vpc, "key": "Tier", "value": "data", "resource_type": "vpc"},
        ]
        assert fast(resources[2]) == []
        described = ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["Tags"]
        assert sorted((t["Key"], t["Value"]) for t in described) == [("Name", "v"), ("Tier", "data")]


def test_action_names_are_the_class_methods_once():
    speed.apply()
    for cls in (EC2Response, S3Response):
        names = responses.method_names_from_class(cls)
        assert names == frozenset(method_names_from_class(cls))
        assert responses.method_names_from_class(cls) is names  # made once per class
    assert "describe_instances" in responses.method_names_from_class(EC2Response)
    assert "no_such_action" not in responses.method_names_from_class(EC2Response)


def test_the_dispatcher_answers_as_moto_and_remembers():
    plain = DomainDispatcherApplication(create_backend_app)
    fast = speed.dispatcher_class()(create_backend_app)
    for host in (None, "moto_api", "s3", "ec2.us-east-1.amazonaws.com", "s3.us-west-2.amazonaws.com", "example.org"):
        assert fast.get_backend_for_host(host) == plain.get_backend_for_host(host)
        assert fast.get_backend_for_host(host) == plain.get_backend_for_host(host)  # the remembered answer
    assert fast._backend_by_host["ec2.us-east-1.amazonaws.com"] == "ec2"


def test_error_answers_are_moto_own_and_indexed_once():
    from moto.core import errors, utils

    speed.apply()
    assert utils.service_name_from_moto_package_name("networkfirewall") == "network-firewall"
    assert utils.service_name_from_moto_package_name("s3") == "s3"
    assert utils.service_name_from_moto_package_name.cache_info().hits >= 0  # remembered
    first, second = errors.ErrorLookupFactory(), errors.ErrorLookupFactory()
    assert first._error_lut_cache is second._error_lut_cache  # one index for every factory
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="speed-errors")
        for _ in range(2):  # the first answer builds the index, the second reads it
            try:
                s3.get_bucket_policy(Bucket="speed-errors")
            except s3.exceptions.ClientError as error:
                assert error.response["Error"]["Code"] == "NoSuchBucketPolicy"
                assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 404
            else:
                raise AssertionError("a bucket without a policy answered GetBucketPolicy")


def _raw(conn, method, path, body=None, headers=None):
    headers = headers or {}
    conn.request(method, path, body=body, headers=headers, encode_chunked="Transfer-Encoding" in headers)
    response = conn.getresponse()
    return response.status, response.getheader("Connection"), response.read()


def test_the_server_keeps_connections_open(sandbox):
    """Requests on one connection are answered in order, whatever body the one before sent."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=30)
    try:
        status, connection, _ = _raw(conn, "GET", "/_sandbox/faults")
        assert (status, connection) == (200, None)
        sock = conn.sock
        assert sock is not None  # still open after the answer
        # A body no one reads (an unknown moto-api path), then a chunked one: the next request is intact.
        status, _, _ = _raw(conn, "POST", "/moto-api/no-such-route", body=b"x" * 70000)
        assert conn.sock is sock
        chunks = iter([b'{"a":', b" 1}"])
        status, _, _ = _raw(
            conn, "POST", "/moto-api/no-such-route", body=chunks, headers={"Transfer-Encoding": "chunked"}
        )
        assert conn.sock is sock
        status, connection, body = _raw(conn, "GET", "/_sandbox/faults")
        assert (status, connection) == (200, None)
        assert body.strip() == b"[]"
        assert conn.sock is sock  # one connection for all four requests
        # A client that asks to close gets its connection closed.
        status, connection, _ = _raw(conn, "GET", "/_sandbox/faults", headers={"Connection": "close"})
        assert (status, connection) == (200, "close")
    finally:
        conn.close()


def test_sdk_calls_on_kept_connections(clean_sandbox):
    """Bodies with Expect: 100-continue, errors and HEAD answers on kept-open connections."""
    s3 = clean_sandbox.client("s3")
    s3.create_bucket(Bucket="keep-alive")
    big = bytes(range(256)) * 8192  # 2 MiB: the SDK sends Expect: 100-continue
    s3.put_object(Bucket="keep-alive", Key="big", Body=big)
    for _ in range(3):
        assert s3.get_object(Bucket="keep-alive", Key="big")["Body"].read() == big
        assert s3.head_object(Bucket="keep-alive", Key="big")["ContentLength"] == len(big)
        try:
            s3.get_bucket_policy(Bucket="keep-alive")
        except s3.exceptions.ClientError as error:
            assert error.response["Error"]["Code"] == "NoSuchBucketPolicy"
    ec2 = clean_sandbox.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    assert [v["VpcId"] for v in ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"]] == [vpc]


def test_an_answer_without_a_body_sends_none(clean_sandbox):
    """A 204 is sent without a body, so the next answer on the connection is read from its first byte
    (the rest-json services answer deletes with 204; a "{}" sent after one was read as the start of the
    next answer, and the SDK sent that request again)."""
    import http.client

    backup = clean_sandbox.client("backup")
    vault = backup.create_backup_vault(BackupVaultName="framing")["BackupVaultArn"]
    for name in ("framing_a", "framing_b"):
        backup.create_restore_testing_plan(
            RestoreTestingPlan={
                "RestoreTestingPlanName": name,
                "ScheduleExpression": "cron(0 6 ? * SUN *)",
                "RecoveryPointSelection": {
                    "Algorithm": "LATEST_WITHIN_WINDOW",
                    "IncludeVaults": [vault],
                    "RecoveryPointTypes": ["SNAPSHOT"],
                },
            }
        )
    signed = {
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20261202/us-east-1/backup/aws4_request, "
        "SignedHeaders=host, Signature=abc",
        "X-Amz-Date": "20261202T041000Z",
    }
    conn = http.client.HTTPConnection("127.0.0.1", clean_sandbox.port, timeout=30)
    try:
        conn.request("DELETE", "/restore-testing/plans/framing_a", headers=signed)
        deleted = conn.getresponse()
        assert deleted.status == 204
        assert deleted.getheader("Content-Length") is None and deleted.getheader("Transfer-Encoding") is None
        assert deleted.read() == b""
        sock = conn.sock
        conn.request("GET", "/restore-testing/plans", headers=signed)
        listed = conn.getresponse()  # http.client.BadStatusLine when bytes of the 204 were left behind
        assert listed.status == 200
        names = [p["RestoreTestingPlanName"] for p in json.loads(listed.read())["RestoreTestingPlans"]]
        assert names == ["framing_b"]
        assert conn.sock is sock  # the same connection
    finally:
        conn.close()
    assert [(r["operation"], r["status"]) for r in clean_sandbox.requests(service="backup", mutating=True)][-1] == (
        "DeleteRestoreTestingPlan",
        204,
    )


HEADER_BLOCKS = [
    (
        b"Host: 127.0.0.1:5000\r\nAccept-Encoding: identity\r\nUser-Agent: Boto3/1.44.8\r\n"
        b"X-Amz-Date: 20261202T041000Z\r\nAuthorization: AWS4-HMAC-SHA256 Credential=testing/20261202/"
        b"us-east-1/s3/aws4_request, SignedHeaders=host, Signature=abc\r\nContent-Length: 0\r\n\r\n"
    ),
    b"A: 1\r\nA: 2\r\nB:no-space\r\nC:   \t spaced  \r\n\r\nthe body is not read",
    b"A: 1\r\n folded\r\nB: 2\r\n\r\n",  # a folded line: the email parser's way
    b"Bad Header: 1\r\nB: 2\r\n\r\n",  # a name with a space
    b"From nobody\r\nA: 1\r\n\r\n",
    b"X_under: 1\n\n",
    b"\r\n",
    b"",
]


def test_request_headers_are_read_as_python_reads_them():
    import io

    for block in HEADER_BLOCKS:
        theirs = _python_parse_headers(io.BytesIO(block))
        ours = speed.parse_headers(io.BytesIO(block))
        assert type(ours) is type(theirs)
        assert ours.items() == theirs.items(), block
        assert ours.get_payload() == theirs.get_payload()
        assert [type(d) for d in ours.defects] == [type(d) for d in theirs.defects]


def _python_parse_headers(fp):
    """http.client.parse_headers as Python ships it (the sandbox server replaces it in its own process)."""
    import email.parser
    import http.client

    headers = http.client._read_headers(fp)
    return email.parser.Parser(_class=http.client.HTTPMessage).parsestr(b"".join(headers).decode("iso-8859-1"))


def test_an_instance_is_found_as_moto_finds_it():
    speed.apply()
    from moto.ec2.exceptions import InvalidInstanceIdError
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.instances import InstanceBackend

    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        ids = [i["InstanceId"] for i in ec2.run_instances(ImageId=image, MinCount=3, MaxCount=3)["Instances"]]
        ids += [i["InstanceId"] for i in ec2.run_instances(ImageId=image, MinCount=2, MaxCount=2)["Instances"]]
        ec2.terminate_instances(InstanceIds=[ids[1]])
        backend = ec2_backends["123456789012"]["us-east-1"]
        for iid in ids:
            assert InstanceBackend.get_instance(backend, iid) is InstanceBackend.get_instance.original(backend, iid)
        for get in (InstanceBackend.get_instance, InstanceBackend.get_instance.original):
            with pytest.raises(InvalidInstanceIdError):
                get(backend, "i-0000000000000000f")
        attr = ec2.describe_instance_attribute(InstanceId=ids[3], Attribute="disableApiTermination")
        assert attr["InstanceId"] == ids[3]


def _build_estate(name="web", bucket_tag="phi"):
    """Instances, a security group with an IPv6 rule, a volume, a database, IAM, a tagged versioned bucket."""
    ec2 = boto3.client("ec2", region_name="us-east-1")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.run_instances(
        ImageId=image,
        MinCount=2,
        MaxCount=2,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}],
        MetadataOptions={"HttpTokens": "required"},
    )
    ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)  # no tags: moto's transformation leaves them out
    group = ec2.create_security_group(GroupName="g", Description="d")["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}],
    )
    ec2.create_volume(AvailabilityZone="us-east-1a", Size=8, Encrypted=True)
    boto3.client("rds", region_name="us-east-1").create_db_instance(
        DBInstanceIdentifier="db1",
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        MasterUsername="admin1",
        MasterUserPassword="not-a-secret-1",
        AllocatedStorage=20,
    )
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}')
    iam.create_user(UserName="u")
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="speed-bucket")
    s3.put_bucket_tagging(Bucket="speed-bucket", Tagging={"TagSet": [{"Key": "data", "Value": bucket_tag}]})
    s3.put_bucket_versioning(Bucket="speed-bucket", VersioningConfiguration={"Status": "Enabled"})


def _estate_answers():
    """Answers of several protocols (EC2, query, rest-xml), each with nested structures and lists."""
    ec2 = boto3.client("ec2", region_name="us-east-1")
    rds = boto3.client("rds", region_name="us-east-1")
    iam = boto3.client("iam", region_name="us-east-1")
    s3 = boto3.client("s3", region_name="us-east-1")
    answers = [
        ec2.describe_instances(),
        ec2.describe_volumes(),
        ec2.describe_security_groups(),
        ec2.describe_network_interfaces(),
        rds.describe_db_instances(),
        iam.get_account_authorization_details(),
        s3.get_bucket_tagging(Bucket="speed-bucket"),
        s3.get_bucket_versioning(Bucket="speed-bucket"),
    ]
    for answer in answers:
        answer.pop("ResponseMetadata", None)
    for db in answers[4]["DBInstances"]:
        db.pop("LatestRestorableTime")  # the time of the call
    return answers


def test_answers_are_serialised_as_moto_serialises_them(monkeypatch):
    speed.apply()
    from moto.core import serialize

    with mock_aws():
        _build_estate()
        fast = _estate_answers()
        fast_again = _estate_answers()  # from the names kept on the shapes
        for cls in (serialize.AttributePicker, serialize.XFormedAttributePicker):
            monkeypatch.setattr(cls, "get_possible_keys", cls.get_possible_keys.original)
        monkeypatch.setattr(serialize.ResponseSerializer, "get_value", serialize.ResponseSerializer.get_value.original)
        import xmltodict

        monkeypatch.setattr(xmltodict, "_validate_name", xmltodict._validate_name.original)
        moto_own = _estate_answers()
    for ours, theirs in zip(fast, moto_own, strict=True):
        assert _differences(ours, theirs) == []
    assert fast_again == moto_own
    instances = [i for r in fast[0]["Reservations"] for i in r["Instances"]]
    assert instances[0]["MetadataOptions"]["HttpTokens"] == "required"
    assert [bool(i.get("Tags")) for i in instances] == [True, True, False]  # the transformation applied
    assert fast[4]["DBInstances"][0]["DBInstanceIdentifier"] == "db1"  # a name found through an alias


def test_the_transformation_is_the_first_whose_path_ends_the_field():
    def upper(value):
        return value.upper()

    def lower(value):
        return value.lower()

    transformers = {"Instance.Tags": upper, "Reservations.Instance.Tags": lower, "Volume.State": lower}
    assert speed._transform_for(transformers, "Result.Reservations.Instance.Tags") is upper  # first in order
    assert speed._transform_for(transformers, "Result.Volume.Size") is None
    assert speed._transform_for(transformers, "Result.Volume.State") is lower
    transformers["Volume.State"] = upper  # moto replaces the function under a path: read every time
    assert speed._transform_for(transformers, "Result.Volume.State") is upper
    transformers["Volume.Size"] = lower  # moto adds a path: what was kept is worked out again
    assert speed._transform_for(transformers, "Result.Volume.Size") is lower
    other = {"Size": upper}  # another service's transformations are kept apart
    assert speed._transform_for(other, "Result.Volume.Size") is upper
    assert speed._transform_for(transformers, "Result.Volume.Size") is lower


def test_a_key_is_worked_out_again_for_another_structure_or_class():
    speed.apply()
    from moto.core import serialize
    from moto.core.utils import get_service_model

    model = get_service_model("rds")
    instance = model.shape_for("DBInstance")
    member = instance.members["DBInstanceIdentifier"]
    member.parent = instance
    picker = serialize.XFormedAttributePicker()

    class DBInstance:
        identifier = "by-class-prefix"

    class Other:
        db_instance_identifier = "by-snake-case"

    def keys(obj):
        context = serialize.AttributePickerContext(obj=obj, key="DBInstanceIdentifier", shape=member)
        return list(picker.get_possible_keys(context)), list(picker.get_possible_keys.original(picker, context))

    for obj in (DBInstance(), Other(), {"DBInstanceIdentifier": "x"}, DBInstance()):
        ours, theirs = keys(obj)
        assert ours == theirs
    assert len(member.__dict__[speed._KEYS_ATTR]) == 3  # one entry per class of object asked about
    assert picker(serialize.AttributePickerContext(obj=DBInstance(), key="DBInstanceIdentifier", shape=member)) == (
        "by-class-prefix"
    )
    assert picker(serialize.AttributePickerContext(obj=Other(), key="DBInstanceIdentifier", shape=member)) == (
        "by-snake-case"
    )
    # the same shape under another structure: worked out again, not taken from the first one
    under_instance, _ = keys(DBInstance())
    member.parent = model.shape_for("DBCluster")
    ours, theirs = keys(DBInstance())
    assert ours == theirs
    assert ours != under_instance  # "Identifier" by the structure's prefix applies only under DBInstance


def test_xml_names_pass_once_and_bad_names_fail_every_time():
    speed.apply()
    import xmltodict

    for _ in range(2):
        assert xmltodict._validate_name("DescribeInstancesResponse", "element") is None
        for bad in ("<x", "a b", "?pi", 'q"'):
            with pytest.raises(ValueError):
                xmltodict._validate_name(bad, "element")
    assert xmltodict.unparse({"a": {"b": "1"}}, full_document=False) == "<a><b>1</b></a>"
    with pytest.raises(ValueError):
        xmltodict.unparse({"a b": "1"})


def _differences(ours, theirs, path=""):
    if isinstance(ours, dict) and isinstance(theirs, dict):
        found = []
        for key in sorted(set(ours) | set(theirs)):
            found += _differences(ours.get(key, "<absent>"), theirs.get(key, "<absent>"), f"{path}.{key}")
        return found
    if isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        return [
            d for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) for d in _differences(a, b, f"{path}[{i}]")
        ]
    return [] if ours == theirs else [(path, ours, theirs)]


XML_DOCUMENTS = [
    {"a": {"b": "1"}},
    {"a": None},
    {"a": ""},
    {"a": {}},
    {"a": {"#text": ""}},
    {"a": {"#text": None, "b": None}},
    {"a": {"b": [], "c": [None, "", "x"], "d": ()}},
    {"a": {"d": ()}},
    {"a": {"@id": "1", "@q": 'say "hi"', "@both": 'it\'s "x"', "@n": None, "@t": True, "@nl": "a\nb\tc"}},
    {"a": {"@id": 7, "#text": "t", "b": "c"}},
    {"a": {"b": True, "c": False, "d": 3, "e": 2.5, "f": b"by\xfftes", "g": [1, [2, 3]]}},
    {"a": {"b": "x & y < z > w", "c": "]]> \u00e9\u4e2d \U0001f600"}},
    {"a": {"b": [{"c": "1"}, {"c": "2", "@k": "v"}, None, "s"]}},
    {"DescribeInstancesResponse": {"@xmlns": "http://ec2.amazonaws.com/doc/2016-11-15", "reservationSet": {}}},
]
XML_REFUSED = [
    {},
    {"a": "1", "b": "2"},
    {"a": ["1", "2"]},
    {"a b": "1"},
    {"a": {"b c": "1"}},
    {"a": {"@b c": "1"}},
    {"a": {1: "x"}},
    {"#comment": "c", "a": "1"},
    {"a": {"#comment": "c", "b": "1"}},
    {"a": {"@xmlns": {"x": "urn:x"}, "b": "1"}},
]


@pytest.mark.parametrize("full_document", [True, False])
@pytest.mark.parametrize("short", [True, False])
def test_xml_answers_are_written_as_xmltodict_writes_them(full_document, short):
    speed.apply()
    import xmltodict

    theirs = xmltodict.unparse.original
    assert theirs is not xmltodict.unparse
    for document in XML_DOCUMENTS + XML_REFUSED:
        try:
            expected = theirs(document, full_document=full_document, short_empty_elements=short)
        except ValueError as error:
            with pytest.raises(ValueError, match=re.escape(str(error))):
                xmltodict.unparse(document, full_document=full_document, short_empty_elements=short)
            continue
        assert xmltodict.unparse(document, full_document=full_document, short_empty_elements=short) == expected
    # generators are read once, by xmltodict itself
    assert xmltodict.unparse({"a": {"b": (str(i) for i in range(3))}}, full_document=full_document) == theirs(
        {"a": {"b": ["0", "1", "2"]}}, full_document=full_document
    )
    # what the direct writer leaves to xmltodict: pretty printing, an output stream
    pretty = xmltodict.unparse({"a": {"b": "1"}}, pretty=True, full_document=full_document)
    assert pretty == theirs({"a": {"b": "1"}}, pretty=True, full_document=full_document)
    assert "\n\t<b>" in pretty


def test_moto_answers_are_the_documents_xmltodict_writes(monkeypatch):
    """Every XML document moto writes for a set of EC2, IAM, RDS and S3 answers (errors included) is the
    text xmltodict itself writes for it."""
    speed.apply()
    import xmltodict

    written = []
    direct = xmltodict.unparse

    def both(input_dict, *args, **kwargs):
        ours = direct(input_dict, *args, **kwargs)
        written.append((ours, xmltodict.unparse.original(input_dict, *args, **kwargs)))
        return ours

    both.original = direct.original
    monkeypatch.setattr(xmltodict, "unparse", both)
    with mock_aws():
        _build_estate(name="a <b> & 'c'", bucket_tag="v&w")
        _estate_answers()
        ec2, iam, s3 = (boto3.client(name, region_name="us-east-1") for name in ("ec2", "iam", "s3"))
        for call in (
            lambda: s3.get_bucket_policy(Bucket="speed-bucket"),
            lambda: ec2.describe_instances(InstanceIds=["i-0000000000000000f"]),
            lambda: iam.get_role(RoleName="absent"),
        ):
            with pytest.raises(Exception, match=r"NoSuchBucketPolicy|does not exist|NoSuchEntity"):
                call()
    assert len(written) >= 10
    for ours, theirs in written:
        assert ours == theirs
