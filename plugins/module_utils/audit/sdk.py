# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The SDK session the risk audit reads AWS with.

A large estate's answers carry thousands of timestamps (every instance's launch time, every volume's
attach and create time, every network interface's attachment, ...). botocore reads each with
dateutil's general date parser, which tries many formats (about 30 microseconds a timestamp, 0.2 s of
the audit's 5 s of CPU on an estate of 1,000 instances). AWS writes them in one form, ISO 8601 in UTC
(``2026-06-30T12:00:00.000Z``); ``fast_timestamp`` reads that form directly (about 3 microseconds) into
the same instant botocore would return, in dateutil's UTC zone, and hands anything else to botocore's
own parser. The session is otherwise botocore's, unchanged.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

try:
    import boto3.session
    import botocore.session
    import botocore.utils
    from dateutil.tz import tzutc
except ImportError:  # pragma: no cover - the module reports missing boto3 itself
    boto3 = botocore = tzutc = None

_UTC = tzutc() if tzutc is not None else None


def fast_timestamp(value):
    """botocore.utils.parse_timestamp(value), read directly when ``value`` is ``YYYY-MM-DDTHH:MM:SS[.f]Z``."""
    if (
        isinstance(value, str)
        and 20 <= len(value) <= 30
        and value[-1] == "Z"
        and value[4] == "-"
        and value[7] == "-"
        and value[10] == "T"
        and value[13] == ":"
        and value[16] == ":"
    ):
        digits = value[:4] + value[5:7] + value[8:10] + value[11:13] + value[14:16] + value[17:19]
        tail = value[19:-1]
        if digits.isdigit() and digits.isascii() and (tail == "" or (tail[0] == "." and tail[1:].isdigit())):
            fraction = tail[1:]
            if fraction.isascii():
                try:
                    return datetime.datetime(
                        int(value[:4]),
                        int(value[5:7]),
                        int(value[8:10]),
                        int(value[11:13]),
                        int(value[14:16]),
                        int(value[17:19]),
                        int((fraction + "000000")[:6]) if fraction else 0,
                        tzinfo=_UTC,
                    )
                except ValueError:
                    pass  # out of range (month 13, second 60, ...): botocore decides what it means
    return botocore.utils.parse_timestamp(value)


def audit_session(profile_name=None):
    """A boto3 session whose clients read timestamps with ``fast_timestamp``."""
    core = botocore.session.get_session()
    core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=fast_timestamp)
    return boto3.session.Session(botocore_session=core, profile_name=profile_name)
