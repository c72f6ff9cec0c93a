"""The web ACL of network_protection is shared (finding 4.4): the role changes only its own rules.

Against the sandbox, in order: check mode on an account without the web ACL sends no mutating call and shows
the plan; the first run creates it and records the role's rules in tags; rules added by hand afterwards (boto3
UpdateWebACL, as the security team would in an incident) survive the next run byte for byte and are named in
its output (byte-match search strings nested in a rate rule's scope-down statement, in a NOT inside an AND, a
regex match, a rule whose statement is a NOT statement), while a managed rule group removed from
network_protection_waf_managed_rule_groups is removed; a second run changes nothing; a real change of a rule of the
role (the rate limit) is shown by --check and made, and the run after it changes nothing; a hand-added rule on a
priority the role needs stops the run before any change, naming the rule, the priority and what to do.
"""

import json

import pytest
from playbook import run_playbook

P = "us-east-1"
PLAY = "playbooks/remediate/network_protection.yml"
ACL = "medcircle-web-acl"
GROUPS = [
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
]
FEWER = [group for group in GROUPS if group != "AWSManagedRulesSQLiRuleSet"]
VARS = {"network_protection_regions": [P], "network_protection_primary_region": P, "cloudops_primary_region": P}
OWNER_TAG = "medcircle:waf-rule:"


def run(sandbox, groups=GROUPS, check=False, **extra):
    return run_playbook(
        sandbox,
        PLAY,
        "--tags",
        "waf",
        extra_vars=dict(VARS, network_protection_waf_managed_rule_groups=groups, **extra),
        check=check,
    )


def ok(result):
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    return result


def changed_tasks(result):
    return [name for name, outcome in result.tasks() if outcome.get("changed")]


def read_acl(sandbox):
    waf = sandbox.client("wafv2", P)
    summaries = [acl for acl in waf.list_web_acls(Scope="REGIONAL")["WebACLs"] if acl["Name"] == ACL]
    if not summaries:
        return None, None
    (summary,) = summaries
    acl = waf.get_web_acl(Name=ACL, Scope="REGIONAL", Id=summary["Id"])
    tags = waf.list_tags_for_resource(ResourceARN=summary["ARN"])["TagInfoForResource"].get("TagList", [])
    return acl, {tag["Key"]: tag["Value"] for tag in tags}


def rules_by_name(sandbox):
    acl, _tags = read_acl(sandbox)
    return {rule["Name"]: rule for rule in acl["WebACL"]["Rules"]}


def plan_output(result):
    """The plan as shown, after checking each of its lines reads cleanly (no blank at either end, no double blank)."""
    task = result.task("Show the plan of the web ACL")
    for item in task.get("results", [task]):
        for line in item.get("msg", []):
            assert line == line.strip() and "  " not in line, line
    return json.dumps(task)


def vis(name):
    return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": False, "MetricName": name}


FOREIGN = (
    "incident-ip-block",
    "count-bad-bots",
    "login-rate",
    "admin-except-health",
    "allow-us-only",
    "AWSManagedRulesLinuxRuleSet",
)


def byte_match(search):
    return {
        "ByteMatchStatement": {
            "SearchString": search,
            "FieldToMatch": {"UriPath": {}},
            "TextTransformations": [{"Priority": 0, "Type": "LOWERCASE"}],
            "PositionalConstraint": "STARTS_WITH",
        }
    }


def hand_add(sandbox, *rules):
    """Add rules to the web ACL as a person would (UpdateWebACL with every current rule plus these)."""
    waf = sandbox.client("wafv2", P)
    acl, _tags = read_acl(sandbox)
    web = acl["WebACL"]
    waf.update_web_acl(
        Name=web["Name"],
        Scope="REGIONAL",
        Id=web["Id"],
        DefaultAction=web["DefaultAction"],
        Description=web.get("Description", ""),
        Rules=web["Rules"] + list(rules),
        VisibilityConfig=web["VisibilityConfig"],
        LockToken=acl["LockToken"],
    )


@pytest.fixture(scope="module")
def waf_sandbox(sandbox):
    sandbox.clear_faults()
    sandbox.reset("empty")
    yield sandbox
    sandbox.clear_faults()


@pytest.fixture(scope="module")
def planned_first(waf_sandbox):
    waf_sandbox.clear_requests()
    result = ok(run(waf_sandbox, check=True))
    return result, waf_sandbox.requests(mutating=True)


@pytest.fixture(scope="module")
def created(waf_sandbox, planned_first):
    return ok(run(waf_sandbox))


@pytest.fixture(scope="module")
def ip_set(waf_sandbox, created):
    waf = waf_sandbox.client("wafv2", P)
    return waf.create_ip_set(
        Name="incident-blocked-ips", Scope="REGIONAL", IPAddressVersion="IPV4", Addresses=["203.0.113.7/32"]
    )["Summary"]["ARN"]


@pytest.fixture(scope="module")
def foreign(waf_sandbox, ip_set):
    """Three rules the security team adds by hand, and the rules as the sandbox then returns them."""
    hand_add(
        waf_sandbox,
        {
            "Name": "incident-ip-block",
            "Priority": 5,
            "Action": {"Block": {}},
            "Statement": {
                "IPSetReferenceStatement": {
                    "ARN": ip_set,
                    "IPSetForwardedIPConfig": {
                        "HeaderName": "X-Forwarded-For",
                        "FallbackBehavior": "MATCH",
                        "Position": "FIRST",
                    },
                }
            },
            "VisibilityConfig": vis("incident-ip-block"),
        },
        {
            "Name": "count-bad-bots",
            "Priority": 7,
            "Action": {"Count": {}},
            "RuleLabels": [{"Name": "medcircle:bad-bot"}],
            "Statement": {
                "ByteMatchStatement": {
                    "SearchString": b"badbot",
                    "FieldToMatch": {"SingleHeader": {"Name": "user-agent"}},
                    "TextTransformations": [{"Priority": 0, "Type": "LOWERCASE"}],
                    "PositionalConstraint": "CONTAINS",
                }
            },
            "VisibilityConfig": vis("count-bad-bots"),
        },
        # search strings nested in other statements, and a rule whose statement is a NOT statement: what made
        # community.aws.wafv2_web_acl see a change on every run (bytes from AWS against text) or fail
        {
            "Name": "login-rate",
            "Priority": 3,
            "Action": {"Block": {}},
            "Statement": {
                "RateBasedStatement": {
                    "Limit": 100,
                    "AggregateKeyType": "IP",
                    "ScopeDownStatement": {
                        "OrStatement": {
                            "Statements": [byte_match(b"/login"), byte_match(b"/signin")],
                        }
                    },
                }
            },
            "VisibilityConfig": vis("login-rate"),
        },
        {
            "Name": "admin-except-health",
            "Priority": 4,
            "Action": {"Block": {}},
            "Statement": {
                "AndStatement": {
                    "Statements": [
                        byte_match(b"/admin"),
                        {"NotStatement": {"Statement": byte_match(b"/admin/health")}},
                        {
                            "RegexMatchStatement": {
                                "RegexString": "^/admin/(users|keys)/",
                                "FieldToMatch": {"UriPath": {}},
                                "TextTransformations": [{"Priority": 0, "Type": "URL_DECODE"}],
                            }
                        },
                    ]
                }
            },
            "VisibilityConfig": vis("admin-except-health"),
        },
        {
            "Name": "allow-us-only",
            "Priority": 6,
            "Action": {"Count": {}},
            "Statement": {"NotStatement": {"Statement": {"GeoMatchStatement": {"CountryCodes": ["US"]}}}},
            "VisibilityConfig": vis("allow-us-only"),
        },
        {
            # a managed rule group added in the console (whose default rule name is the group's name)
            "Name": "AWSManagedRulesLinuxRuleSet",
            "Priority": 60,
            "OverrideAction": {"Count": {}},
            "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesLinuxRuleSet"}},
            "VisibilityConfig": vis("linux"),
        },
    )
    # and the security team's own tag on the web ACL
    acl, _tags = read_acl(waf_sandbox)
    waf_sandbox.client("wafv2", P).tag_resource(
        ResourceARN=acl["WebACL"]["ARN"], Tags=[{"Key": "owner-team", "Value": "security"}]
    )
    rules = rules_by_name(waf_sandbox)
    return {name: rules[name] for name in FOREIGN}


@pytest.fixture(scope="module")
def planned_removal(waf_sandbox, foreign):
    waf_sandbox.clear_requests()
    result = ok(run(waf_sandbox, groups=FEWER, check=True))
    return result, waf_sandbox.requests(mutating=True)


@pytest.fixture(scope="module")
def removed(waf_sandbox, planned_removal):
    return ok(run(waf_sandbox, groups=FEWER))


@pytest.fixture(scope="module")
def again(waf_sandbox, removed):
    waf_sandbox.clear_requests()
    result = ok(run(waf_sandbox, groups=FEWER))
    return result, waf_sandbox.requests(mutating=True)


def test_check_mode_without_the_web_acl_changes_nothing_and_shows_the_plan(waf_sandbox, planned_first):
    result, mutating = planned_first
    assert mutating == []
    assert read_acl(waf_sandbox) == (None, None)
    assert any("In each region, create the web ACL" in name for name in changed_tasks(result))
    assert "does not exist yet, it is created" in plan_output(result)
    assert "medcircle-rate-limit" in plan_output(result)


def test_first_run_creates_the_web_acl_and_records_its_rules(waf_sandbox, created):
    acl, tags = read_acl(waf_sandbox)
    rules = sorted(acl["WebACL"]["Rules"], key=lambda rule: rule["Priority"])
    assert [(rule["Name"], rule["Priority"]) for rule in rules] == [
        *((group, (index + 1) * 10) for index, group in enumerate(GROUPS)),
        ("medcircle-rate-limit", 50),
    ]
    assert sorted(key for key in tags if key.startswith(OWNER_TAG)) == sorted(
        OWNER_TAG + name for name in [*GROUPS, "medcircle-rate-limit"]
    )
    assert tags["ManagedBy"] == "medcircle.cloudops"
    rate = {rule["Name"]: rule for rule in rules}["medcircle-rate-limit"]["Statement"]["RateBasedStatement"]
    assert rate == {"Limit": 2000, "EvaluationWindowSec": 300, "AggregateKeyType": "IP"}


def test_check_mode_with_hand_added_rules_changes_nothing_and_shows_the_plan(waf_sandbox, foreign, planned_removal):
    result, mutating = planned_removal
    assert mutating == []
    assert set(foreign) <= set(rules_by_name(waf_sandbox))
    assert "AWSManagedRulesSQLiRuleSet" in rules_by_name(waf_sandbox)
    shown = plan_output(result)
    assert "Removed (added by this role earlier, no longer in network_protection_waf_managed_rule_groups): " in shown
    assert "AWSManagedRulesSQLiRuleSet" in shown
    assert "incident-ip-block (priority 5, Block)" in shown
    assert any("In each region, create the web ACL" in name for name in changed_tasks(result))


def test_hand_added_rules_survive_unchanged_and_are_named(waf_sandbox, foreign, removed):
    after = rules_by_name(waf_sandbox)
    for name, rule in foreign.items():
        assert after[name] == rule, name
    shown = plan_output(removed)
    assert "NOT managed by this role" in shown
    for text in (
        "incident-ip-block (priority 5, Block)",
        "count-bad-bots (priority 7, Count)",
        "AWSManagedRulesLinuxRuleSet (priority 60, rule group)",
    ):
        assert text in shown
    summary = removed.task("Show what the web ACL protects")["msg"]
    assert "per IP). Kept in us-east-1, not managed by this role: " in summary and "incident-ip-block" in summary
    assert "  " not in summary, summary


def test_a_group_removed_from_the_variable_is_removed_from_the_web_acl(waf_sandbox, foreign, removed):
    acl, tags = read_acl(waf_sandbox)
    ours = sorted(
        ((rule["Name"], rule["Priority"]) for rule in acl["WebACL"]["Rules"] if rule["Name"] not in foreign),
        key=lambda item: item[1],
    )
    assert ours == [*((group, (index + 1) * 10) for index, group in enumerate(FEWER)), ("medcircle-rate-limit", 40)]
    assert OWNER_TAG + "AWSManagedRulesSQLiRuleSet" not in tags
    # the console-added managed rule group was never the role's: it stays although it is not in the variable
    assert OWNER_TAG + "AWSManagedRulesLinuxRuleSet" not in tags
    assert tags["owner-team"] == "security"  # the security team's own tag stays


def test_second_run_changes_nothing(waf_sandbox, foreign, again):
    result, mutating = again
    assert changed_tasks(result) == []
    assert mutating == []
    assert "No change to the rules of this role." in plan_output(result)
    after = rules_by_name(waf_sandbox)
    for name, rule in foreign.items():
        assert after[name] == rule, name


def test_a_real_change_of_a_role_rule_still_changes_and_keeps_the_hand_added_rules(waf_sandbox, foreign, again):
    waf_sandbox.clear_requests()
    planned = ok(run(waf_sandbox, groups=FEWER, check=True, network_protection_waf_rate_limit=1500))
    assert waf_sandbox.requests(mutating=True) == []
    assert any("In each region, create the web ACL" in name for name in changed_tasks(planned))
    assert "Updated: medcircle-rate-limit." in plan_output(planned)

    changed = ok(run(waf_sandbox, groups=FEWER, network_protection_waf_rate_limit=1500))
    acl = changed.task("In each region, create the web ACL")["results"][0]
    assert acl["changed"] is True and acl["rules"]["updated"] == ["medcircle-rate-limit"]
    assert sorted(acl["rules"]["kept"]) == sorted(foreign)
    after = rules_by_name(waf_sandbox)
    assert after["medcircle-rate-limit"]["Statement"]["RateBasedStatement"]["Limit"] == 1500
    for name, rule in foreign.items():
        assert after[name] == rule, name

    waf_sandbox.clear_requests()
    same = ok(run(waf_sandbox, groups=FEWER, network_protection_waf_rate_limit=1500))
    assert changed_tasks(same) == []
    assert waf_sandbox.requests(mutating=True) == []


def test_a_hand_added_rule_on_a_priority_of_the_role_stops_the_run_before_any_change(waf_sandbox, again):
    clash = {
        "Name": "incident-geo-block",
        "Priority": 20,
        "Action": {"Block": {}},
        "Statement": {"GeoMatchStatement": {"CountryCodes": ["KP"]}},
        "VisibilityConfig": vis("incident-geo-block"),
    }
    hand_add(waf_sandbox, clash)
    before = read_acl(waf_sandbox)
    waf_sandbox.clear_requests()
    result = run(waf_sandbox, groups=FEWER)
    assert result.returncode != 0
    failed = [name for name, outcome in result.tasks() if outcome.get("failed")]
    assert len(failed) == 1 and "Check that no rule added by hand takes a priority" in failed[0], failed
    message = json.dumps(result.task("Check that no rule added by hand takes a priority"))
    assert "rule incident-geo-block has priority 20" in message
    assert "AWSManagedRulesKnownBadInputsRuleSet" in message
    assert "Nothing was changed" in message and "run the play again" in message
    assert waf_sandbox.requests(mutating=True) == []
    after = read_acl(waf_sandbox)
    assert after[0]["WebACL"]["Rules"] == before[0]["WebACL"]["Rules"] and after[1] == before[1]
    assert not any("PATCH" in name for name, _outcome in result.tasks())
