"""The machine images every sandbox region offers.

moto loads about 1,300 images into each EC2 region on first use (its default
images plus container-optimised ones), which makes the first EC2 call after
every reset take seconds. The sandbox offers the images the estate and the
collection use instead: moto's default images (the old Amazon Linux 2 of the
as-assessed estate among them) and the current Amazon Linux 2 and 2023 images
that the public SSM parameters point at, in the primary and the DR region.
The list is built from the installed moto's own data, so it never goes stale
against it, and handed to moto through MOTO_AMIS_PATH before moto loads.
In every other region moto knows, the image that region's public parameter
/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64 names is
offered too, so the image path finds its image wherever it runs.
"""

import gzip
import json
import os
from importlib import resources

from sandbox import CACHE_DIR

LATEST_REGIONS = ("us-east-1", "us-west-2")
AL2023_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"


def _load(relative: str, service: str = "ec2"):
    base = resources.files("moto") / service / "resources"
    path = base / relative
    if not path.is_file():
        path = base / (relative + ".gz")
        return json.loads(gzip.decompress(path.read_bytes()))
    return json.loads(path.read_text())


def build() -> list[dict]:
    images = {image["ami_id"]: image for image in _load("amis.json")}
    for region in LATEST_REGIONS:
        for image in _load(f"latest_amis/{region}.json"):
            images.setdefault(image["ami_id"], image)
    latest = resources.files("moto") / "ec2" / "resources" / "latest_amis"
    for entry in sorted(latest.iterdir(), key=lambda path: path.name):
        region = entry.name.split(".", 1)[0]
        if region in LATEST_REGIONS:
            continue
        try:
            parameters = _load(f"ami-amazon-linux-latest/{region}.json", service="ssm")
        except FileNotFoundError:
            continue
        wanted = {p["Value"] for p in parameters if p.get("Name") == AL2023_PARAMETER}
        for image in _load(f"latest_amis/{region}.json"):
            if image["ami_id"] in wanted:
                images.setdefault(image["ami_id"], image)
    return list(images.values())


def install() -> str:
    """Write the image list under .cache/sandbox and point MOTO_AMIS_PATH at it (unless already set)."""
    if "MOTO_AMIS_PATH" in os.environ:
        return os.environ["MOTO_AMIS_PATH"]
    path = CACHE_DIR / "amis.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(build()))
    tmp.replace(path)
    os.environ["MOTO_AMIS_PATH"] = str(path)
    return str(path)
