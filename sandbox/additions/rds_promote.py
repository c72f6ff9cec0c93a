"""RDS PromoteReadReplica as AWS does it: the promoted database stops being a replica of its source.

moto flips its replica flag but keeps ReadReplicaSourceDBInstanceIdentifier, and the source keeps listing
the replica, so a promoted cross-region replica still looks like a replica. The DR failover promotes replicas
and checks that they are standalone afterwards.
"""

from sandbox.additions import AdditionError, addition


def _example(client):
    rds = client("rds")
    rds.create_db_instance(
        DBInstanceIdentifier="example-promote-src",
        Engine="mysql",
        DBInstanceClass="db.t3.micro",
        MasterUsername="admin",
        MasterUserPassword="example-password-1",
        AllocatedStorage=20,
    )
    rds.create_db_instance_read_replica(
        DBInstanceIdentifier="example-promote-replica", SourceDBInstanceIdentifier="example-promote-src"
    )
    return {"DBInstanceIdentifier": "example-promote-replica"}


def _source_of(ctx, source_id):
    """moto's source database (same region by id, or another region by ARN), or None."""
    if source_id.startswith("arn:"):
        parts = source_id.split(":")
        try:
            return ctx.backend("rds", parts[3]).databases.get(parts[-1])
        except KeyError:
            return None
    return ctx.backend("rds").databases.get(source_id)


@addition("rds", "PromoteReadReplica", example=_example)
def promote_read_replica(ctx):
    identifier = ctx.require("DBInstanceIdentifier")
    backend = ctx.backend("rds")
    database = backend.databases.get(identifier)
    if database is None:
        raise AdditionError("DBInstanceNotFound", f"DBInstance {identifier} not found.", 404)
    source_id = database.source_db_instance_identifier
    if not database.is_replica and not source_id:
        raise AdditionError("InvalidDBInstanceState", f"DB Instance {identifier} is not a read replica.", 400)
    source = _source_of(ctx, source_id) if source_id else None
    if source is not None:
        for name in (database.db_instance_identifier, database.db_instance_arn):
            if name in source.replicas:
                source.replicas.remove(name)
    database.is_replica = False
    database.source_db_instance_identifier = None
    retention = ctx.param("BackupRetentionPeriod")
    if retention is not None:
        database.backup_retention_period = int(retention)
    return {
        "DBInstance": {
            "DBInstanceIdentifier": database.db_instance_identifier,
            "DBInstanceArn": database.db_instance_arn,
            "DBInstanceStatus": database.status,
            "Engine": database.engine,
            "BackupRetentionPeriod": int(database.backup_retention_period or 0),
        }
    }
