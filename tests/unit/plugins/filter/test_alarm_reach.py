"""The alarm_reach filter: who a set of alarms reaches, and a plain warning when it is no one."""

from ansible_collections.medcircle.cloudops.plugins.filter.alarm_reach import FilterModule, alarm_reach

ALARMS = ["db-cpu-high", "db-free-storage-low"]


def _topic(*subscriptions):
    return {"sns_topic": {"subscriptions": list(subscriptions)}}


def test_every_subscriber_is_named_and_an_unconfirmed_e_mail_is_marked():
    result = _topic(
        {"endpoint": "dba@example.org", "protocol": "email", "subscription_arn": "PendingConfirmation"},
        {"endpoint": "https://pager.example.org/hook", "protocol": "https", "subscription_arn": "arn:aws:sns:x"},
    )
    assert alarm_reach(result, ALARMS, "db-alarms", "us-east-1", ["dba@example.org"]) == (
        "2 alarm(s) (db-cpu-high, db-free-storage-low) notify the topic db-alarms in us-east-1; it reaches"
        " dba@example.org (email, waiting for the owner to follow the link in the confirmation e-mail),"
        " https://pager.example.org/hook (https)."
    )


def test_nobody_subscribed_says_the_alarms_reach_no_one_and_names_the_variable():
    assert alarm_reach(_topic(), ALARMS[:1], "db-alarms", "us-west-2", [], False, "alarm_email") == (
        "1 alarm(s) (db-cpu-high) notify the topic db-alarms in us-west-2; nobody is subscribed to it, so the alarms"
        " reach no one: put the on-call addresses in alarm_email (or subscribe the on-call system to the topic) and"
        " run this again."
    )


def test_a_check_run_lists_the_addresses_that_would_be_subscribed_even_with_a_skipped_topic():
    skipped = {"skipped": True, "changed": False}
    line = alarm_reach(skipped, ALARMS, "db-alarms", "us-east-1", ["a@example.org", "b@example.org"], True)
    assert line.endswith(
        "would notify the topic db-alarms in us-east-1; it reaches a@example.org (email, would be subscribed),"
        " b@example.org (email, would be subscribed)."
    )
    existing = _topic({"endpoint": "a@example.org", "protocol": "email", "subscription_arn": "arn:aws:sns:x"})
    assert alarm_reach(existing, ALARMS, "t", "r", ["a@example.org"], True).endswith(
        "it reaches a@example.org (email)."
    )
    assert FilterModule().filters()["alarm_reach"] is alarm_reach
