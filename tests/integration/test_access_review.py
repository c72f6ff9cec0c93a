"""Least-privilege evidence for findings 1.2 and 2.1: playbooks/access_review.yml (role access_review, module
iam_service_last_accessed_info) against the sandbox.

The estate is built on the ``empty`` seed: ``app`` (an inline policy allowing every action: 1.2 fails) that
listed buckets, described instances and asked STS who it is with its own access key; ``idle`` (with a
customer-managed policy allowing ``s3:*``: 2.1 fails for the policy) that never made a call; ``reader`` (EC2 read
actions, named: neither finding fails). The sandbox records who signed which request, as IAM's service last
accessed data does.

By default the play reviews exactly the identities and policies 1.2 and 2.1 fail; the proposal for ``app`` names
the actions it used and nothing else; the policy only ``idle`` uses gets none; --check reads the same, writes no
report and sends no mutating call; bad input stops the play before IAM is asked anything.
"""

import json
from pathlib import Path

import pytest
from playbook import run_playbook

PLAYBOOK = "playbooks/access_review.yml"
ACCOUNT = "123456789012"
APP = f"arn:aws:iam::{ACCOUNT}:user/app"
S3_POLICY = f"arn:aws:iam::{ACCOUNT}:policy/MedCircleS3Everything"


def _doc(actions):
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]})


@pytest.fixture(scope="module")
def estate(sandbox):
    sandbox.clear_faults()
    sandbox.reset("empty")
    iam = sandbox.client("iam")
    iam.create_user(UserName="app")
    iam.put_user_policy(UserName="app", PolicyName="everything", PolicyDocument=_doc("*"))
    key = iam.create_access_key(UserName="app")["AccessKey"]
    sandbox.client_as(key, "s3").list_buckets()
    sandbox.client_as(key, "ec2").describe_instances()
    sandbox.client_as(key, "ec2", "us-west-2").describe_volumes()
    sandbox.client_as(key, "sts").get_caller_identity()
    iam.create_user(UserName="idle")
    arn = iam.create_policy(PolicyName="MedCircleS3Everything", PolicyDocument=_doc("s3:*"))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="idle", PolicyArn=arn)
    iam.create_user(UserName="reader")
    iam.put_user_policy(
        UserName="reader", PolicyName="ec2-read", PolicyDocument=_doc(["ec2:DescribeInstances", "ec2:DescribeVolumes"])
    )
    return sandbox


def _report(tmp_path):
    folders = list(Path(tmp_path).glob("*-access-review"))
    assert len(folders) == 1, folders
    data = json.loads((folders[0] / "access-review.json").read_text())
    return data, (folders[0] / "access-review.md").read_text()


def test_reviews_what_1_2_and_2_1_fail_and_proposes_what_was_used(estate, tmp_path):
    estate.clear_requests()
    result = run_playbook(estate, PLAYBOOK, extra_vars={"cloudops_reports_dir": str(tmp_path)})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]
    assert estate.requests(mutating=True) == []
    data, markdown = _report(tmp_path)
    by_arn = {i["arn"]: i for i in data["identities"]}
    # app fails 1.2 (Action * on Resource *); idle's policy fails 2.1 (s3:*: the policy is reviewed, which covers
    # every identity it is attached to); reader fails neither
    assert set(by_arn) == {APP, S3_POLICY}
    app = by_arn[APP]
    assert app["used_services"] == ["ec2", "s3", "sts"]
    # sts:* would let it assume any role: left out of the proposal, for the owner to name
    assert app["proposed_actions"] == ["ec2:DescribeInstances", "ec2:DescribeVolumes", "s3:ListAllMyBuckets"]
    assert [h["namespace"] for h in app["name_actions_by_hand"]] == ["sts"]
    assert app["proposed_policy"]["Statement"] == [
        {"Sid": "UsedActions", "Effect": "Allow", "Action": app["proposed_actions"], "Resource": "*"}
    ]
    ec2 = next(s for s in app["services"] if s["namespace"] == "ec2")
    assert ec2["used_by"] == APP and ec2["region"] in ("us-east-1", "us-west-2") and ec2["used_recently"]
    assert {"iam", "kms", "dynamodb"} <= set(app["unused_services"])
    idle_policy = by_arn[S3_POLICY]
    assert [s["namespace"] for s in idle_policy["services"]] == ["s3"]
    assert idle_policy["used_services"] == [] and idle_policy["proposed_policy"] is None
    assert "## user app" in markdown and '"s3:ListAllMyBuckets"' in markdown
    # hundreds of services allowed by "*" are counted in the Markdown, listed in full in the JSON only
    assert f"Allowed but not used in the period: {len(app['unused_services'])} services, among them" in markdown
    assert "Nothing was used in the period" in markdown
    assert "- `sts`: sts:* lets the identity assume any role" in markdown
    lines = [r["msg"] for r in result.task("Show what each identity is allowed")["results"]]
    assert any(
        line.startswith("user app: ")
        and "3 used in 90 days (ec2, s3, sts)" in line
        and "the owner names the actions of sts" in line
        for line in lines
    ), lines
    assert any(
        line.startswith("policy MedCircleS3Everything: 1 service(s) allowed, none used in 90 days; proposal:")
        and "ask the owner" in line
        for line in lines
    ), lines


def test_chosen_identities_and_check_mode(estate, tmp_path):
    estate.clear_requests()
    result = run_playbook(
        estate,
        PLAYBOOK,
        extra_vars={"cloudops_reports_dir": str(tmp_path), "access_review_arns": [APP], "access_review_days": 30},
        check=True,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]
    assert estate.requests(mutating=True) == []
    assert list(Path(tmp_path).iterdir()) == []  # under --check nothing is written
    operations = [r["operation"] for r in estate.requests(service="iam")]
    assert operations.count("GenerateServiceLastAccessedDetails") == 1  # only the chosen identity, no audit
    assert "GetAccountAuthorizationDetails" not in operations
    lines = [r["msg"] for r in result.task("Show what each identity is allowed")["results"]]
    assert len(lines) == 1 and lines[0].startswith("user app: ") and "used in 30 days" in lines[0]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"access_review_arns": ["app"]}, "access_review_arns must be a list of ARNs of IAM users"),
        (
            {"access_review_arns": [APP], "access_review_days": 401},
            "access_review_days 401 must be 1 to 400. Nothing was read.",
        ),
        ({"access_review_granularity": "resource"}, "access_review_granularity"),
    ],
)
def test_bad_input_stops_before_iam_is_asked(estate, tmp_path, extra, message):
    estate.clear_requests()
    result = run_playbook(estate, PLAYBOOK, extra_vars={"cloudops_reports_dir": str(tmp_path), **extra})
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert estate.requests(service="iam") == []
