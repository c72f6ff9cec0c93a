"""Where moto's answers differ from AWS's in a way that breaks real clients, in one place.

Each fix changes moto's model objects so that its own serialisers answer as AWS does;
nothing here rewrites responses on the wire.

- DescribeVolumes: AWS always returns ``SnapshotId`` (an empty string for a volume
  that was not created from a snapshot); moto leaves it out, and clients that read
  the key (amazon.aws.ec2_vol_info among them) fail.
"""

_APPLIED = False


def _volume_snapshot_id_is_never_missing() -> None:
    from moto.ec2.models.elastic_block_store import Volume

    original = Volume.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if self.snapshot_id is None:
            self.snapshot_id = ""

    Volume.__init__ = __init__


def apply() -> None:
    global _APPLIED
    if _APPLIED:
        return
    _volume_snapshot_id_is_never_missing()
    _APPLIED = True
