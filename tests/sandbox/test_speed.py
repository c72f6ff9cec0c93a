"""sandbox/speed.py: each shortcut answers exactly what moto's own code answers."""

import boto3
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
