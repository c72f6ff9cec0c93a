"""RDS: DescribeDBParameters with the engine's default parameters; DescribeDBParameterGroups that answers
DBParameterGroupNotFound for a group that does not exist.

moto answers DescribeDBParameterGroups for an unknown name with an empty list, where AWS answers
``DBParameterGroupNotFound``; amazon.aws.rds_instance_param_group takes the empty answer for an existing
group and fails on creating one. The groups themselves stay moto's.

AWS lists every parameter of the group's family, the ones nobody set with ``Source: engine-default``; moto
lists only the parameters that were modified, so a client that looks a parameter up before changing it
(amazon.aws.rds_instance_param_group does) finds nothing and refuses. Here moto's group stays the source of
truth: its parameters come first, as moto holds them, and the engine-default entries of the family's TLS
parameters (``require_secure_transport`` for MySQL and MariaDB, ``rds.force_ssl`` for PostgreSQL) are added
when the group has not set them. Engine defaults carry no value, as AWS answers for them.

RestoreDBInstanceFromDBSnapshot: moto applies only the settings sent with a true value and copies the rest
from the snapshot's database, so ``DeletionProtection=false`` (or ``MultiAZ``/``PubliclyAccessible`` false)
on a restore from a protected database's snapshot gave a protected instance. AWS applies what is sent (and
its defaults, false, for what is not); the DR drill restores unprotected, deletable copies.
"""

from moto.rds import models as _rds_models

from sandbox.additions import AdditionError, addition

_FALSE_SETTINGS = ("deletion_protection", "multi_az", "publicly_accessible")
_moto_restore = _rds_models.RDSBackend.restore_db_instance_from_db_snapshot


def _restore_db_instance_from_db_snapshot(self, from_snapshot_id, overrides):
    database = _moto_restore(self, from_snapshot_id, overrides)
    for key in _FALSE_SETTINGS:
        if overrides.get(key) in (False, "false", "False"):
            setattr(database, key, False)
    return database


_rds_models.RDSBackend.restore_db_instance_from_db_snapshot = _restore_db_instance_from_db_snapshot

# Engine defaults the sandbox knows, by family prefix: name -> (description, data type, allowed values).
_ENGINE_DEFAULTS = {
    "mysql": {
        "require_secure_transport": ("Whether client connections must use TLS", "boolean", "0,1"),
    },
    "mariadb": {
        "require_secure_transport": ("Whether client connections must use TLS", "boolean", "0,1"),
    },
    "postgres": {
        "rds.force_ssl": ("Force SSL connections", "boolean", "0,1"),
    },
}


def _defaults(family):
    for prefix, params in _ENGINE_DEFAULTS.items():
        if (family or "").startswith(prefix):
            return params
    return {}


def _example(client):
    rds = client("rds")
    rds.create_db_parameter_group(
        DBParameterGroupName="example-mysql80", DBParameterGroupFamily="mysql8.0", Description="example"
    )
    return {"DBParameterGroupName": "example-mysql80"}


@addition("rds", "DescribeDBParameters", example=_example)
def describe_db_parameters(ctx):
    name = ctx.params.get("DBParameterGroupName")
    groups = ctx.backend("rds").describe_db_parameter_groups({"db_parameter_group_name": name})
    if not groups:
        raise AdditionError("DBParameterGroupNotFound", f"DBParameterGroup not found: {name}", 404)
    group = groups[0]
    defaults = _defaults(group.family)
    parameters = []
    for param in group.parameters.values():
        entry = {k: v for k, v in param.items() if v is not None}
        # moto keeps only what ModifyDBParameterGroup sent; AWS also describes the parameter.
        description, data_type, allowed = defaults.get(entry.get("ParameterName"), (None, "string", None))
        entry.setdefault("Source", "user")
        entry.setdefault("IsModifiable", True)
        entry.setdefault("DataType", data_type)
        entry.setdefault("ApplyType", "dynamic")
        if description:
            entry.setdefault("Description", description)
        if allowed:
            entry.setdefault("AllowedValues", allowed)
        parameters.append(entry)
    known = {p.get("ParameterName") for p in parameters}
    for pname, (description, data_type, allowed) in sorted(defaults.items()):
        if pname not in known:
            parameters.append(
                {
                    "ParameterName": pname,
                    "Description": description,
                    "Source": "engine-default",
                    "ApplyType": "dynamic",
                    "DataType": data_type,
                    "AllowedValues": allowed,
                    "IsModifiable": True,
                    "ApplyMethod": "pending-reboot",
                }
            )
    source = ctx.params.get("Source")
    if source:
        parameters = [p for p in parameters if p.get("Source") == source]
    return {"Parameters": parameters}


def _example_groups(client):
    client("rds").create_db_parameter_group(
        DBParameterGroupName="example-groups-mysql80", DBParameterGroupFamily="mysql8.0", Description="example"
    )
    return {"DBParameterGroupName": "example-groups-mysql80"}


@addition("rds", "DescribeDBParameterGroups", example=_example_groups)
def describe_db_parameter_groups(ctx):
    name = ctx.params.get("DBParameterGroupName")
    groups = ctx.backend("rds").describe_db_parameter_groups({"db_parameter_group_name": (name or "").lower()})
    if name and not groups and not name.startswith("default."):
        raise AdditionError("DBParameterGroupNotFound", f"DBParameterGroup not found: {name}", 404)
    return {
        "DBParameterGroups": [
            {
                "DBParameterGroupName": group.name,
                "DBParameterGroupFamily": group.family,
                "Description": group.description,
                "DBParameterGroupArn": group.arn,
            }
            for group in groups
        ]
    }
