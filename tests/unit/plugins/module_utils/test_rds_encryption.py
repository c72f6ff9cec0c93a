"""What the encryption swap's restore asks RDS for a gp3 database: its IOPS and throughput only where RDS takes them
(from 400 GiB for MySQL, MariaDB, PostgreSQL and Db2, from 200 GiB for Oracle, at any size for SQL Server)."""

import pytest
from ansible_collections.medcircle.cloudops.plugins.module_utils.rds_encryption import (
    gp3_performance_configurable,
    restore_parameters,
)

NAMES = {"temporary_identifier": "db-enc", "encrypted_snapshot": "db-encrypted-20261205"}


@pytest.mark.parametrize(
    "engine, size, configurable",
    [
        ("mysql", 20, False),
        ("postgres", 399, False),
        ("postgres", 400, True),
        ("mariadb", 1000, True),
        ("oracle-ee", 199, False),
        ("oracle-se2", 200, True),
        ("sqlserver-se", 20, True),
    ],
)
def test_gp3_performance_is_configurable_from_the_engines_threshold(engine, size, configurable):
    assert gp3_performance_configurable({"Engine": engine, "AllocatedStorage": size}) is configurable


def _original(**extra):
    return {"DBInstanceIdentifier": "db", "DBInstanceClass": "db.t3.micro", "Engine": "postgres", **extra}


def test_a_small_gp3_database_is_restored_on_its_fixed_baseline():
    params = restore_parameters(
        _original(StorageType="gp3", AllocatedStorage=20, Iops=3000, StorageThroughput=125), NAMES, "20261205", "db"
    )
    assert params["StorageType"] == "gp3" and "Iops" not in params and "StorageThroughput" not in params


def test_a_large_gp3_database_keeps_its_iops_and_throughput():
    params = restore_parameters(
        _original(StorageType="gp3", AllocatedStorage=500, Iops=15000, StorageThroughput=750), NAMES, "20261205", "db"
    )
    assert (params["Iops"], params["StorageThroughput"]) == (15000, 750)


def test_provisioned_iops_storage_keeps_its_iops():
    params = restore_parameters(_original(StorageType="io1", AllocatedStorage=100, Iops=5000), NAMES, "20261205", "db")
    assert params["Iops"] == 5000 and "StorageThroughput" not in params
