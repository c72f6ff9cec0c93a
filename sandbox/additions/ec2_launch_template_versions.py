"""EC2: CreateLaunchTemplateVersion that honours SourceVersion.

moto creates the new version from ``LaunchTemplateData`` alone and ignores ``SourceVersion``. AWS starts
from the source version's data and lets the top-level keys of ``LaunchTemplateData`` replace the source's
(the image path of linux_upgrade relies on it: a new version that changes only ImageId keeps IMDSv2, the
instance profile and the encrypted volumes of the hardened template).
"""

import copy

from sandbox.additions import AdditionError, addition


def _example(client):
    ec2 = client("ec2")
    ec2.create_launch_template(
        LaunchTemplateName="sandbox-example-lt-version",
        LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"},
    )
    return {
        "LaunchTemplateName": "sandbox-example-lt-version",
        "SourceVersion": "1",
        "LaunchTemplateData": {"ImageId": "ami-1234abcd"},
    }


def _template(ctx):
    backend = ctx.backend("ec2")
    name = ctx.params.get("LaunchTemplateName")
    template_id = ctx.params.get("LaunchTemplateId")
    if not name and not template_id:
        raise AdditionError(
            "MissingParameter", "The request must contain the parameter LaunchTemplateName or LaunchTemplateId"
        )
    try:
        return backend.get_launch_template(template_id) if template_id else backend.get_launch_template_by_name(name)
    except Exception:  # moto raises its own not-found types
        raise AdditionError(
            "InvalidLaunchTemplateName.NotFoundException" if name else "InvalidLaunchTemplateId.NotFound",
            f"The specified launch template, with template {'name ' + name if name else 'ID ' + template_id}, "
            "does not exist.",
        ) from None


def _user_data(data: dict) -> dict:
    value = data.get("UserData")
    if isinstance(value, str):
        from moto.core.types import Base64EncodedString

        data["UserData"] = Base64EncodedString(value)
    return data


@addition("ec2", "CreateLaunchTemplateVersion", example=_example)
def create_launch_template_version(ctx):
    template = _template(ctx)
    data = _user_data(copy.deepcopy(ctx.params.get("LaunchTemplateData") or {}))
    source = ctx.params.get("SourceVersion")
    if source not in (None, ""):
        try:
            base = template.get_version(source)
        except Exception:  # moto: InvalidLaunchTemplateVersionNotFound
            raise AdditionError(
                "InvalidLaunchTemplateId.VersionNotFound",
                f"Could not find launch template version {source} for launch template {template.id}",
            ) from None
        merged = copy.deepcopy({key: value for key, value in base.data.items() if key != "UserData"})
        if "UserData" in base.data:
            merged["UserData"] = base.data["UserData"]
        merged.update(data)
        data = merged
    version = template.create_version(data, ctx.params.get("VersionDescription") or "")
    output = {
        "CreateTime": version.create_time,
        "CreatedBy": f"arn:aws:iam::{ctx.account_id}:root",
        "DefaultVersion": template.is_default(version),
        "LaunchTemplateData": {key: value for key, value in version.data.items() if key != "UserData"},
        "LaunchTemplateId": template.id,
        "LaunchTemplateName": template.name,
        "VersionNumber": version.number,
    }
    if version.description:
        output["VersionDescription"] = version.description
    if "UserData" in version.data:
        user_data = version.data["UserData"]
        output["LaunchTemplateData"]["UserData"] = getattr(user_data, "_encoded_string", user_data)
    return {"LaunchTemplateVersion": output}
