"""EC2: the account-level instance metadata (IMDS) defaults of a region.

moto 5.2 has neither GetInstanceMetadataDefaults nor ModifyInstanceMetadataDefaults. AWS keeps, per
account and region, a default for each of HttpTokens, HttpPutResponseHopLimit, HttpEndpoint,
InstanceMetadataTags and HttpTokensEnforced:

- ModifyInstanceMetadataDefaults changes only the fields it names; ``no-preference`` (``-1`` for the hop
  limit) clears a field. It answers ``Return: true``. Every value is checked before any is kept, so a
  bad value changes nothing (``InvalidParameterValue``); a request that names no field is refused
  (``MissingParameter``); ``DryRun`` answers ``DryRunOperation``.
- GetInstanceMetadataDefaults answers ``AccountLevel`` with only the fields that are set, and
  ``ManagedBy: account`` (no declarative policy manages the sandbox's account).

The defaults live on moto's EC2 backend of the region (``sandbox_instance_metadata_defaults``), so a
sandbox reset forgets them with the rest of moto's state.

RunInstances honours them, as AWS does: once a region has a default, an instance launched there gets,
for each metadata option, the value of the launch request, else of its launch template, else the
account default, else AWS's launch default (moto's). moto's RunInstances ignores the launch template's
metadata options; regions without account defaults keep that behaviour unchanged. AMIs with
``ImdsSupport: v2.0`` and HttpTokensEnforced's refusal of launches are not modelled.
"""

from sandbox.additions import AdditionError, addition

ATTRIBUTE = "sandbox_instance_metadata_defaults"
NO_PREFERENCE = "no-preference"
# Request field -> the values AWS accepts besides no-preference.
CHOICES = {
    "HttpTokens": ("optional", "required"),
    "HttpEndpoint": ("disabled", "enabled"),
    "InstanceMetadataTags": ("disabled", "enabled"),
    "HttpTokensEnforced": ("disabled", "enabled"),
}
HOP_LIMIT = "HttpPutResponseHopLimit"
FIELDS = ("HttpTokens", HOP_LIMIT, "HttpEndpoint", "InstanceMetadataTags", "HttpTokensEnforced")
# The fields RunInstances takes from the defaults (MetadataOptions of the launch request).
LAUNCH_FIELDS = ("HttpTokens", HOP_LIMIT, "HttpEndpoint", "InstanceMetadataTags")


def defaults_of(backend) -> dict:
    """The account-level defaults kept on one region's moto EC2 backend (request field -> value)."""
    return getattr(backend, ATTRIBUTE, None) or {}


def _dry_run(ctx):
    if str(ctx.params.get("DryRun", "")).lower() == "true":
        raise AdditionError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412)


def _invalid(field, value, allowed):
    return AdditionError(
        "InvalidParameterValue",
        f"Value ({value}) for parameter {field} is invalid. Valid values: {allowed}.",
    )


def _validated(params) -> dict:
    """The fields of the request, checked: field -> value (None clears the field)."""
    changes = {}
    for field in FIELDS:
        value = params.get(field)
        if value is None or value == "":
            continue
        if field == HOP_LIMIT:
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise _invalid(field, value, "an integer from 1 to 64, or -1 for no preference") from None
            if number == -1:
                changes[field] = None
            elif 1 <= number <= 64:
                changes[field] = number
            else:
                raise _invalid(field, value, "an integer from 1 to 64, or -1 for no preference")
        elif value == NO_PREFERENCE:
            changes[field] = None
        elif value in CHOICES[field]:
            changes[field] = value
        else:
            raise _invalid(field, value, ", ".join((*CHOICES[field], NO_PREFERENCE)))
    if not changes:
        raise AdditionError(
            "MissingParameter",
            "The request must contain at least one of the parameters " + ", ".join(FIELDS) + ".",
        )
    return changes


@addition("ec2", "GetInstanceMetadataDefaults", example={})
def get_instance_metadata_defaults(ctx):
    _dry_run(ctx)
    account_level = dict(defaults_of(ctx.backend("ec2")))
    account_level["ManagedBy"] = "account"
    return {"AccountLevel": account_level}


@addition("ec2", "ModifyInstanceMetadataDefaults", example={"HttpTokens": "required", "HttpPutResponseHopLimit": 2})
def modify_instance_metadata_defaults(ctx):
    changes = _validated(ctx.params)
    _dry_run(ctx)
    backend = ctx.backend("ec2")
    current = dict(defaults_of(backend))
    for field, value in changes.items():
        if value is None:
            current.pop(field, None)
        else:
            current[field] = value
    setattr(backend, ATTRIBUTE, {field: current[field] for field in FIELDS if field in current})
    _honour_defaults_at_launch()
    return {"Return": True}


# --- RunInstances --------------------------------------------------------------------------------

_PATCHED = False


def launch_metadata_options(backend, requested, launch_template=None) -> dict:
    """The MetadataOptions an instance is launched with: request, else template, else account default."""
    defaults = defaults_of(backend)
    options = {field: defaults[field] for field in LAUNCH_FIELDS if field in defaults}
    if launch_template:
        try:
            template = backend._get_template_from_args(launch_template).data.get("MetadataOptions") or {}
        except Exception:  # moto raises the not-found error itself, in the launch
            template = {}
        options.update({key: value for key, value in template.items() if value not in (None, "")})
    options.update({key: value for key, value in (requested or {}).items() if value not in (None, "")})
    return options


def _honour_defaults_at_launch() -> None:
    """Make moto's RunInstances apply the account defaults (once the first default is set)."""
    global _PATCHED
    if _PATCHED:
        return
    from moto.ec2.models import EC2Backend

    original = EC2Backend.run_instances

    def run_instances(self, image_id, count, user_data, security_group_names, **kwargs):
        if defaults_of(self):
            kwargs["metadata_options"] = launch_metadata_options(
                self, kwargs.get("metadata_options"), kwargs.get("launch_template")
            )
        return original(self, image_id, count, user_data, security_group_names, **kwargs)

    run_instances.original = original
    EC2Backend.run_instances = run_instances
    _PATCHED = True
