# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Say who a set of CloudWatch alarms reaches through their SNS topic."""

PENDING = "PendingConfirmation"


def alarm_reach(topic_result, alarms, topic, region, emails=(), check_mode=False, variable="the alarm addresses"):
    """One sentence: the alarms, their topic and every subscriber; when there is none, that the alarms reach no one
    and which variable to set.

    ``topic_result`` is the registered result of community.aws.sns_topic (skipped or empty under --check when the
    topic does not exist yet), ``emails`` the addresses the role subscribes."""
    result = topic_result if isinstance(topic_result, dict) else {}
    subscriptions = (result.get("sns_topic") or {}).get("subscriptions") or []
    reached = []
    for sub in subscriptions:
        note = (
            ", waiting for the owner to follow the link in the confirmation e-mail"
            if sub.get("subscription_arn") == PENDING
            else ""
        )
        reached.append("%s (%s%s)" % (sub.get("endpoint"), sub.get("protocol"), note))
    if check_mode:
        subscribed = [sub.get("endpoint") for sub in subscriptions]
        reached += [
            "%s (email, would be subscribed)" % address for address in emails or [] if address not in subscribed
        ]
    names = list(alarms or [])
    head = "%d alarm(s) (%s) %s the topic %s in %s; " % (
        len(names),
        ", ".join(names),
        "would notify" if check_mode else "notify",
        topic,
        region,
    )
    if reached:
        return head + "it reaches %s." % ", ".join(reached)
    return head + (
        "nobody is subscribed to it, so the alarms reach no one: put the on-call addresses in %s (or subscribe the"
        " on-call system to the topic) and run this again." % variable
    )


class FilterModule(object):
    def filters(self):
        return {"alarm_reach": alarm_reach}
