# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Helpers shared by the medcircle.cloudops modules.

- ParameterError: bad input, raised before any AWS call that changes anything.
  Its message names the option, the bad value and what is allowed.
- Region handling: the ``regions`` option (a list of region names, defaulting
  to the module's own region), validated against the regions botocore knows.
- regional_clients(): one retrying client per region, in the order given.

Modules catch ``AnsibleAWSError`` (ParameterError is one) once and fail with
``module.fail_json_aws_error(e)``, which reports botocore errors through
``fail_json_aws`` and plain input errors through ``fail_json``.
"""

import contextlib
import re
from functools import lru_cache

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore.session

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

# A region name: two to four letters, one or more words, a number
# (us-east-1, us-gov-west-1, cn-north-1, eusc-de-east-1).
REGION_PATTERN = re.compile(r"^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$")


class ParameterError(AnsibleAWSError):
    """Bad module input. Raised before any mutating call.

    The message says which option, which value, and what is allowed, so the
    person who runs the playbook knows what to fix.
    """

    def __init__(self, option, value, problem, allowed=None):
        if value is None:
            message = f"{option} {problem}"
        elif isinstance(value, str) and value and not re.search(r"\s", value):
            message = f"{option} {value} {problem}"
        else:
            message = f"{option} {value!r} {problem}"
        if allowed:
            message = f"{message}. Allowed: {allowed}"
        super().__init__(message=message)
        self.option = option
        self.value = value


@lru_cache(maxsize=None)
def known_regions(service="ec2"):
    """Every region botocore knows for ``service``, in all partitions, sorted (a tuple)."""
    session = botocore.session.Session()
    regions = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions(service, partition_name=partition))
    return tuple(sorted(regions))


def validate_regions(regions, service="ec2", option="regions"):
    """Check that every entry is a well-formed region that botocore knows for ``service``.

    Returns the regions without duplicates, in the order given.
    Raises ParameterError for the first bad entry.
    """
    allowed = known_regions(service)
    result = []
    for region in regions:
        if not isinstance(region, str) or not REGION_PATTERN.match(region):
            raise ParameterError(
                option,
                region,
                "is not a well-formed AWS region name",
                f"a region name such as us-east-1; known regions for {service}: {', '.join(allowed)}",
            )
        if region not in allowed:
            raise ParameterError(
                option,
                region,
                f"is not an AWS region known for {service}",
                ", ".join(allowed),
            )
        if region not in result:
            result.append(region)
    return result


def target_regions(module, service="ec2", option="regions"):
    """The validated regions a module acts on: ``option`` if set, else the module's own region."""
    regions = module.params.get(option)
    if not regions:
        if not module.region:
            raise ParameterError(
                option,
                None,
                "is not set and no region was found in the region option, AWS_REGION or AWS_DEFAULT_REGION",
                "a list of region names such as [us-east-1, us-west-2]",
            )
        regions = [module.region]
    return validate_regions(regions, service=service, option=option)


def regional_clients(module, service, regions):
    """One client per region, each retrying throttled calls made with ``aws_retry=True``.

    Endpoint, credentials and profile come from the module's usual AWS options
    (endpoint_url, access_key, profile, ...); only the region changes.
    """
    return {
        region: module.client(service, region=region, retry_decorator=AWSRetry.jittered_backoff()) for region in regions
    }


def exit_with_diff(module, result):
    """module.exit_json(**result); ``result["diff"]`` (before/after) is returned only when the task runs with --diff."""
    diff = result.pop("diff", None)
    if module._diff and diff is not None:
        result["diff"] = diff
    module.exit_json(**result)
