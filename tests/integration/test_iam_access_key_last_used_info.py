"""medcircle.cloudops.iam_access_key_last_used_info through real `ansible` runs on the sandbox.

A user holds two access keys; one signs a request to the sandbox (which records the use as IAM does: when,
which service, which region), the other is never used. The module reports both as IAM answers them, reads only
(GetAccessKeyLastUsed per key, nothing else), and refuses a malformed key id before any call.
"""

import pytest
from playbook import run_module

MODULE = "medcircle.cloudops.iam_access_key_last_used_info"


@pytest.fixture
def keys(clean_sandbox):
    iam = clean_sandbox.client("iam")
    iam.create_user(UserName="ci-deployer")
    used = iam.create_access_key(UserName="ci-deployer")["AccessKey"]
    unused = iam.create_access_key(UserName="ci-deployer")["AccessKey"]
    # A call signed with the first key, as the automation that holds it would make.
    clean_sandbox.client_as(used, "s3", "us-west-2").list_buckets()
    clean_sandbox.clear_requests()
    return clean_sandbox, used["AccessKeyId"], unused["AccessKeyId"]


def test_reports_the_recorded_use_and_the_unused_key(keys):
    sandbox, used, unused = keys
    result = run_module(sandbox, MODULE, {"access_key_ids": [used, unused, used]})
    assert result["changed"] is False, result
    first, second = result["access_keys"]
    assert first["access_key_id"] == used and first["user_name"] == "ci-deployer"
    assert first["last_used_date"][:4].isdigit() and first["last_used_date"].endswith("+00:00"), first
    assert (first["service_name"], first["region"]) == ("s3", "us-west-2"), first
    assert second == {
        "access_key_id": unused,
        "user_name": "ci-deployer",
        "last_used_date": None,
        "service_name": None,
        "region": None,
    }
    calls = [(r["service"], r["operation"]) for r in sandbox.requests()]
    assert calls == [("iam", "GetAccessKeyLastUsed")] * 2  # one per distinct key, nothing else


def test_check_mode_reads_the_same(keys):
    sandbox, _used, unused = keys
    result = run_module(sandbox, MODULE, {"access_key_ids": [unused]}, check=True)
    assert result["changed"] is False
    assert result["access_keys"][0]["access_key_id"] == unused
    assert sandbox.requests(mutating=True) == []


def test_a_malformed_key_id_is_refused_before_any_call(keys):
    sandbox, used, _unused = keys
    result = run_module(sandbox, MODULE, {"access_key_ids": [used, "akia-lower"]})
    assert result["failed"] is True
    assert "access_key_ids must be IAM access key ids" in result["msg"] and "'akia-lower'" in result["msg"]
    assert sandbox.requests(service="iam") == []


def test_a_key_nobody_holds_is_named(keys):
    sandbox, _used, _unused = keys
    result = run_module(sandbox, MODULE, {"access_key_ids": ["AKIAZZZZZZZZZZZZZZZZ"]})
    assert result["failed"] is True
    assert "No IAM user of this account holds the access key AKIAZZZZZZZZZZZZZZZZ" in result["msg"], result["msg"]
