"""moto answers that the sandbox corrects so that real clients work (sandbox/fidelity.py, sandbox/amis.py)."""


def test_volumes_always_carry_a_snapshot_id(clean_sandbox):
    ec2 = clean_sandbox.client("ec2")
    image = ec2.describe_images(Filters=[{"Name": "name", "Values": ["amzn2-ami-hvm-2.0.20180810-x86_64-gp2"]}])
    image_id = image["Images"][0]["ImageId"]
    ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="t3.micro")
    ec2.create_volume(AvailabilityZone="us-east-1a", Size=10)
    volumes = ec2.describe_volumes()["Volumes"]
    assert len(volumes) == 2  # the instance's root volume and the blank one
    assert all(volume["SnapshotId"] == "" for volume in volumes)


def test_each_region_offers_current_amazon_linux_images(clean_sandbox):
    for region in ("us-east-1", "us-west-2"):
        ec2 = clean_sandbox.client("ec2", region)
        names = [
            image["Name"]
            for image in ec2.describe_images(
                Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-2023*"]}]
            )["Images"]
        ]
        assert any(name.endswith("-kernel-6.1-x86_64") for name in names), names


def test_a_bucket_can_be_created_again_after_a_reset(clean_sandbox):
    clean_sandbox.client("s3").create_bucket(Bucket="medcircle-reset-check")
    clean_sandbox.reset("empty")
    s3 = clean_sandbox.client("s3")
    assert s3.list_buckets()["Buckets"] == []
    s3.create_bucket(Bucket="medcircle-reset-check")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["medcircle-reset-check"]
