# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The account-level instance metadata (IMDS) defaults of EC2, per region.

Used by the ec2_instance_metadata_defaults module. Every function takes boto3
clients (wrapped by AnsibleAWSModule.client with a retry decorator, so calls
pass ``aws_retry=True``) and never the module, so the logic is tested with
botocore's Stubber.

AWS keeps, per account and region, a default for HttpTokens,
HttpPutResponseHopLimit, HttpEndpoint and InstanceMetadataTags that every new
instance of the region gets unless its launch request, its launch template or
its AMI says otherwise. ``no-preference`` (``-1`` for the hop limit) clears a
default; GetInstanceMetadataDefaults reports only the defaults that are set.

The work is split so that bad input never leaves a half-done change:

1. validate_settings(): the form of every option, without calling AWS.
2. plan_region(): one read-only call (GetInstanceMetadataDefaults) per region;
   works out which settings differ. Raises ParameterError where a declarative
   policy of AWS Organizations manages the defaults (the account cannot change
   them).
3. apply_plan(): one ModifyInstanceMetadataDefaults per region that differs,
   naming only the settings that differ.

ensure_instance_metadata_defaults() plans every region before it applies any.
"""

from ansible_collections.amazon.aws.plugins.module_utils.ec2 import AnsibleEC2Error
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError

NO_PREFERENCE = "no-preference"
# AWS's "no preference" for the hop limit in ModifyInstanceMetadataDefaults.
NO_HOP_LIMIT = -1
HOP_LIMIT_MIN = 1
HOP_LIMIT_MAX = 64

# Module option -> AWS field, in the order they are shown.
SETTINGS = {
    "http_tokens": "HttpTokens",
    "http_put_response_hop_limit": "HttpPutResponseHopLimit",
    "http_endpoint": "HttpEndpoint",
    "instance_metadata_tags": "InstanceMetadataTags",
}
HOP_LIMIT = "http_put_response_hop_limit"
# The choices of the string options besides no-preference (the module's argument_spec enforces them too).
CHOICES = {
    "http_tokens": ("required", "optional"),
    "http_endpoint": ("enabled", "disabled"),
    "instance_metadata_tags": ("enabled", "disabled"),
}


class InstanceMetadataDefaultsErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleEC2Error


# --- EC2 API calls -----------------------------------------------------------


@InstanceMetadataDefaultsErrorHandler.common_error_handler("get the instance metadata defaults")
def get_instance_metadata_defaults(client):
    return client.get_instance_metadata_defaults(aws_retry=True).get("AccountLevel") or {}


@InstanceMetadataDefaultsErrorHandler.common_error_handler("modify the instance metadata defaults")
def modify_instance_metadata_defaults(client, fields):
    return client.modify_instance_metadata_defaults(aws_retry=True, **fields)["Return"]


# --- Logic ---------------------------------------------------------------------


def _no_preference(option):
    return NO_HOP_LIMIT if option == HOP_LIMIT else NO_PREFERENCE


def validate_hop_limit(value, option=HOP_LIMIT):
    """The hop limit as an int (-1 for no preference); ParameterError if it is not 1-64, -1 or no-preference."""
    allowed = f"an integer from {HOP_LIMIT_MIN} to {HOP_LIMIT_MAX}, or -1 or {NO_PREFERENCE} to clear the default"
    if value == NO_PREFERENCE:
        return NO_HOP_LIMIT
    if isinstance(value, bool):
        raise ParameterError(option, str(value).lower(), "is not a hop limit", allowed)
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise ParameterError(option, value, "is not a hop limit", allowed) from None
    if number != NO_HOP_LIMIT and not HOP_LIMIT_MIN <= number <= HOP_LIMIT_MAX:
        raise ParameterError(option, str(number), "is out of range", allowed)
    return number


def validate_settings(options):
    """The wanted settings (option -> value), only for the options that were given.

    ``options`` maps module option -> value (None: leave that default alone). The
    hop limit becomes an int (-1 for no preference). Raises ParameterError for a
    bad value or when no setting is given.
    """
    wanted = {}
    for option in SETTINGS:
        value = options.get(option)
        if value is None:
            continue
        if option == HOP_LIMIT:
            wanted[option] = validate_hop_limit(value)
        elif value in CHOICES[option] or value == NO_PREFERENCE:
            wanted[option] = value
        else:
            raise ParameterError(option, value, "is not allowed", ", ".join((*CHOICES[option], NO_PREFERENCE)))
    if not wanted:
        raise ParameterError(
            ", ".join(SETTINGS),
            None,
            "are all unset: nothing to manage",
            "set at least one of them (no-preference, or -1 for the hop limit, clears a default)",
        )
    return wanted


def settings_from_aws(account_level):
    """AWS's AccountLevel as module options; a default that is not set shows as no-preference (hop limit -1)."""
    return {option: account_level.get(field, _no_preference(option)) for option, field in SETTINGS.items()}


def describe_region(client, region):
    """The region's defaults as the module returns them (without ``changed``)."""
    account_level = get_instance_metadata_defaults(client)
    return {
        "region": region,
        **settings_from_aws(account_level),
        "managed_by": account_level.get("ManagedBy", "account"),
    }


def _show(option, value):
    return NO_PREFERENCE if option == HOP_LIMIT and value == NO_HOP_LIMIT else str(value)


def plan_region(client, region, wanted):
    """Read one region and work out its changes. Makes one read-only call.

    Raises ParameterError when a change is needed but a declarative policy
    manages the region's defaults.
    """
    account_level = get_instance_metadata_defaults(client)
    before = settings_from_aws(account_level)
    after = dict(before)
    fields = {}
    changes = []
    for option, value in wanted.items():
        if before[option] != value:
            after[option] = value
            fields[SETTINGS[option]] = value
            changes.append(f"{region}: {option} {_show(option, before[option])} -> {_show(option, value)}")
    managed_by = account_level.get("ManagedBy", "account")
    if fields and managed_by == "declarative-policy":
        reason = account_level.get("ManagedExceptionMessage")
        raise ParameterError(
            "regions",
            region,
            "has instance metadata defaults that a declarative policy of AWS Organizations manages"
            + (f" ({reason})" if reason else "")
            + f"; the account cannot change them: {'; '.join(changes)}",
            "regions whose defaults the account manages; or change the declarative policy",
        )
    return {
        "region": region,
        "before": before,
        "after": after,
        "fields": fields,
        "changes": changes,
        "managed_by": managed_by,
        "changed": bool(fields),
    }


def apply_plan(client, plan):
    """Make the plan's change: one ModifyInstanceMetadataDefaults naming only what differs."""
    if plan["fields"]:
        modify_instance_metadata_defaults(client, plan["fields"])
    return plan["after"]


def ensure_instance_metadata_defaults(ec2_clients, regions, options, check_mode=False):
    """Bring every region's defaults to the wanted settings.

    ``ec2_clients`` maps region -> client; ``options`` maps module option ->
    value (None: leave alone). Every region is read and checked before any is
    changed; in check mode nothing is changed and the would-be state is
    returned.

    Returns a dict: changed, changes (one string per changed setting, naming
    the region), regions (one entry per region: region, the four settings,
    managed_by, changed, changes) and diff (before/after keyed by region).
    """
    wanted = validate_settings(options)
    plans = [plan_region(ec2_clients[region], region, wanted) for region in regions]

    results = []
    changes = []
    diff = {"before": {}, "after": {}}
    for plan in plans:
        region = plan["region"]
        after = apply_plan(ec2_clients[region], plan) if plan["changed"] and not check_mode else plan["after"]
        results.append(
            {
                "region": region,
                **after,
                "managed_by": plan["managed_by"],
                "changed": plan["changed"],
                "changes": plan["changes"],
            }
        )
        changes.extend(plan["changes"])
        diff["before"][region] = dict(plan["before"])
        diff["after"][region] = dict(after)

    return {"changed": bool(changes), "changes": changes, "regions": results, "diff": diff}
