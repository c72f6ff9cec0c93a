"""ListBuckets names each bucket's region, as AWS does (sandbox/fidelity.py)."""


def test_list_buckets_names_each_buckets_region(clean_sandbox):
    clean_sandbox.client("s3", "us-east-1").create_bucket(Bucket="medcircle-region-east")
    clean_sandbox.client("s3", "us-west-2").create_bucket(
        Bucket="medcircle-region-west", CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
    )
    s3 = clean_sandbox.client("s3")
    listed = {b["Name"]: b.get("BucketRegion") for b in s3.list_buckets()["Buckets"]}
    assert listed == {"medcircle-region-east": "us-east-1", "medcircle-region-west": "us-west-2"}
    for name, region in listed.items():
        location = s3.get_bucket_location(Bucket=name)["LocationConstraint"]
        assert (location or "us-east-1") == region
    only_west = s3.list_buckets(BucketRegion="us-west-2")["Buckets"]
    assert [b["Name"] for b in only_west] == ["medcircle-region-west"]
