"""DR drill over 10 systems: the drill's wall time against the slowest single system's (floor: at most 1.5 x).

Each system's restore takes a set time, made by a sandbox fault rule with ``delay_seconds`` that matches the
system's drill resource name (RestoreDBInstanceFromDBSnapshot for databases, RunInstances for instances). The
drill runs through the real module (``ansible localhost -m medcircle.cloudops.dr_drill``), first over all 10
systems, then over the slowest one alone.

    .venv/bin/python benchmarks/dr_drill.py [--port 5812] [--base 3] [--step 1]
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "integration"))

import dr_estate  # noqa: E402
from sandbox_client import SandboxClient  # noqa: E402

ANSIBLE = str(Path(sys.executable).parent / "ansible")
FLOOR = 1.5


def build(sandbox, count):
    """count systems, half databases and half instances, each with a copy in the DR region."""
    systems = []
    rds = sandbox.client("rds", dr_estate.PRIMARY)
    ec2 = sandbox.client("ec2", dr_estate.PRIMARY)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    for index in range(1, count + 1):
        name = f"sys{index:02d}"
        if index % 2:
            rds.create_db_instance(
                DBInstanceIdentifier="bench-" + name,
                Engine="mysql",
                DBInstanceClass="db.t3.micro",
                MasterUsername="admin",
                MasterUserPassword="bench-password-1",
                AllocatedStorage=20,
            )
            dr_estate.copy_db_snapshot(sandbox, db_id="bench-" + name)
            systems.append({"name": name, "kind": "rds", "resource": "bench-" + name})
        else:
            ec2.run_instances(
                ImageId=image,
                InstanceType="t3.micro",
                MinCount=1,
                MaxCount=1,
                TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "bench-" + name}]}],
            )
            dr_estate.copy_ami(sandbox, name="bench-" + name, system=name)
            systems.append(
                {"name": name, "kind": "ec2", "resource": "bench-" + name, "health_check": {"type": "running"}}
            )
        systems[-1].update(tier=2, rto_minutes=60, rpo_minutes=1440)
    return systems


def drill(sandbox, systems, drill_id, only=None):
    args = {
        "systems": systems,
        "primary_region": dr_estate.PRIMARY,
        "dr_region": dr_estate.DR,
        "drill_id": drill_id,
        "poll_delay": 1,
        "parallel": 10,
    }
    if only:
        args["only"] = only
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ANSIBLE_"))}
    env.update(sandbox.env())
    env.update(
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
    )
    command = [ANSIBLE, "localhost", "-m", "medcircle.cloudops.dr_drill", "-a", json.dumps(args)]
    done = subprocess.run(  # noqa: S603 - the venv's ansible with arguments built here
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    result = json.loads(done.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    if result.get("failed"):
        raise SystemExit(f"drill {drill_id} failed: {result.get('msg')}")
    return result["drill"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5812)
    parser.add_argument("--systems", type=int, default=10)
    parser.add_argument("--base", type=float, default=3.0, help="restore seconds of the fastest system")
    parser.add_argument("--step", type=float, default=1.0, help="each next system takes this much longer")
    options = parser.parse_args()

    sandbox = SandboxClient.start(port=options.port, seed="as-assessed")
    try:
        systems = build(sandbox, options.systems)
        delays = {s["name"]: round(options.base + options.step * i, 2) for i, s in enumerate(systems)}
        rules = []
        for system in systems:
            operation = "RestoreDBInstanceFromDBSnapshot" if system["kind"] == "rds" else "RunInstances"
            rules.append(
                {
                    "service": system["kind"],
                    "operation": operation,
                    "region": dr_estate.DR,
                    "match": "-" + system["name"],
                    "delay_seconds": delays[system["name"]],
                }
            )
        sandbox.set_faults(rules)
        everything = drill(sandbox, systems, "drill-bench-all")
        slowest = max(systems, key=lambda s: delays[s["name"]])["name"]
        alone = drill(sandbox, systems, "drill-bench-one", only=[slowest])
    finally:
        sandbox.stop()

    print("system   kind  restore delay  recovered in (drill of all)")
    for result in everything["systems"]:
        seconds = result["rto_seconds"] or 0
        print(
            f"{result['name']:<8} {result['kind']:<5} {delays[result['name']]:8.1f} s      {seconds:8.1f} s  "
            f"{result['status']}"
        )
    total = sum(delays.values())
    ratio = everything["wall_seconds"] / alone["wall_seconds"]
    verdict = "PASS" if ratio <= FLOOR else "FAIL"
    print()
    print(
        f"drill of {len(systems)} systems: wall time {everything['wall_seconds']:.1f} s "
        f"(clean-up {everything['cleanup']['seconds']:.1f} s more)"
    )
    print(f"slowest system ({slowest}) alone: wall time {alone['wall_seconds']:.1f} s")
    print(f"sum of the restore delays: {total:.1f} s (what one after another would take at least)")
    print(f"ratio all / slowest alone: {ratio:.2f} (floor: at most {FLOOR}) -> {verdict}")
    print(f"clean-up left: {len(everything['cleanup']['left'])}, {len(alone['cleanup']['left'])}")
    ok = ratio <= FLOOR and everything["success"] and alone["success"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
