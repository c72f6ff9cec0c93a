"""The collector read side by side: a source is read once however many threads want it, a failed read fails
every thread that waited for it, results keep their order, and no more than ``max_workers`` requests are
in flight."""

import re
import threading
import time

import pytest
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit.collect import (
    GLOBAL,
    AwsSnapshot,
    Snapshot,
    SourceError,
)


class SlowSnapshot(Snapshot):
    """Each read takes a while and is counted; source "broken" fails."""

    def __init__(self):
        super().__init__(["us-east-1"])
        self.reads = []
        self.lock = threading.Lock()

    def _collect(self, source, region, key):
        with self.lock:
            self.reads.append((source, region, key))
        time.sleep(0.05)
        if source == "broken":
            raise SourceError(f"broken in {region}: AccessDenied")
        return {"source": source, "key": key}


def _together(fn, count):
    """fn() on ``count`` threads released at the same moment; their results or exceptions."""
    start = threading.Barrier(count)
    out = [None] * count

    def run(index):
        start.wait()
        try:
            out[index] = fn()
        except Exception as exc:  # collected for the assertions
            out[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return out


def test_a_source_wanted_by_many_threads_is_read_once():
    snap = SlowSnapshot()
    results = _together(lambda: snap.get("ec2_instances", "us-east-1"), 8)
    assert snap.reads == [("ec2_instances", "us-east-1", None)]
    assert all(r is results[0] for r in results)  # the one answer, shared


def test_a_failed_read_fails_every_thread_that_waited_for_it_and_is_not_retried():
    snap = SlowSnapshot()
    results = _together(lambda: snap.get("broken", "us-east-1"), 6)
    assert snap.reads == [("broken", "us-east-1", None)]
    assert all(isinstance(r, SourceError) and "AccessDenied" in str(r) for r in results)
    with pytest.raises(SourceError, match="AccessDenied"):
        snap.get("broken", "us-east-1")
    assert len(snap.reads) == 1
    assert snap.errors() == {("broken", "us-east-1", None): "broken in us-east-1: AccessDenied"}


class FakeClient:
    """A client whose one operation records how many calls are in flight."""

    def __init__(self, tracker):
        self.tracker = tracker
        self.meta = type("Meta", (), {"events": type("Events", (), {"register": lambda *a, **k: None})()})()

    def describe_instance_attribute(self, InstanceId, Attribute):
        with self.tracker["lock"]:
            self.tracker["now"] += 1
            self.tracker["peak"] = max(self.tracker["peak"], self.tracker["now"])
        time.sleep(0.02)
        with self.tracker["lock"]:
            self.tracker["now"] -= 1
        return {"DisableApiTermination": {"Value": InstanceId.endswith("1")}}


@pytest.mark.parametrize("workers", [1, 3, 16])
def test_requests_in_flight_stay_within_workers_and_results_keep_order(workers):
    tracker = {"lock": threading.Lock(), "now": 0, "peak": 0}
    client = FakeClient(tracker)
    snap = AwsSnapshot(lambda service, region: client, ["us-east-1"], max_workers=workers)
    ids = [f"i-{n:02d}" for n in range(24)]

    def read(iid):
        return snap.call("ec2", "us-east-1", "describe_instance_attribute", InstanceId=iid, Attribute="x")

    answers = snap.map(read, ids)
    assert [a["DisableApiTermination"]["Value"] for a in answers] == [iid.endswith("1") for iid in ids]
    assert tracker["peak"] <= workers
    if workers > 1:
        assert tracker["peak"] > 1
    else:
        assert tracker["peak"] == 1


class SlowAwsSnapshot(AwsSnapshot):
    """AwsSnapshot's threading (read_ahead, prefetch) over SlowSnapshot's slow, counted reads."""

    def __init__(self):
        super().__init__(lambda service, region: None, ["us-east-1", "us-west-2"], max_workers=4)
        self.reads = []
        self.lock = threading.Lock()

    _collect = SlowSnapshot._collect


def test_read_ahead_starts_reads_that_checks_then_share():
    snap = SlowAwsSnapshot()
    snap.read_ahead([("ec2_instances", "us-east-1"), ("ec2_instances", "us-west-2"), ("broken", "us-east-1")])
    deadline = time.monotonic() + 5
    while len(snap.reads) < 3 and time.monotonic() < deadline:  # started without anyone asking
        time.sleep(0.005)
    assert sorted(snap.reads) == [
        ("broken", "us-east-1", None),
        ("ec2_instances", "us-east-1", None),
        ("ec2_instances", "us-west-2", None),
    ]
    assert snap.get("ec2_instances", "us-west-2") == {"source": "ec2_instances", "key": None}
    with pytest.raises(SourceError, match="AccessDenied"):
        snap.get("broken", "us-east-1")
    assert len(snap.reads) == 3  # each read once: the checks got the answers read ahead


def test_prefetch_from_several_threads_reads_each_key_once_and_returns_when_all_are_read():
    snap = SlowAwsSnapshot()
    keys = [("logging", f"bucket-{i}") for i in range(12)]

    def prefetch():
        snap.prefetch("s3_bucket", keys, "us-east-1")
        # including the keys another thread was reading
        return all(("s3_bucket", GLOBAL, k) in snap._data for k in keys)  # bucket settings are global

    assert _together(prefetch, 3) == [True, True, True]
    assert sorted(k for _s, _r, k in snap.reads) == sorted(keys)  # 12 reads for 3 x 12 asks
    assert all(snap.get("s3_bucket", "us-east-1", k) == {"source": "s3_bucket", "key": k} for k in keys)


class PagedInstancesClient:
    """DescribeInstances in two pages; the second waits (up to 5 s) for a termination-protection read of an
    instance of the first, and can fail instead."""

    def __init__(self, fail_second_page=False):
        self.meta = type("Meta", (), {"events": type("Events", (), {"register": lambda *a, **k: None})()})()
        self.fail_second_page = fail_second_page
        self.page_sizes = []
        self.first_page_read = threading.Event()
        self.read_before_second_page = None
        self.asked = []

    def describe_instances(self, MaxResults, Filters, NextToken=None):
        self.page_sizes.append(MaxResults)
        if NextToken is None:
            return {"Reservations": [{"Instances": [{"InstanceId": "i-a"}, {"InstanceId": "i-asg"}]}], "NextToken": "t"}
        assert NextToken == "t"
        self.read_before_second_page = self.first_page_read.wait(5)
        if self.fail_second_page:
            raise RuntimeError("RequestLimitExceeded: slow down")
        return {"Reservations": [{"Instances": [{"InstanceId": "i-b"}]}]}

    def describe_instance_attribute(self, InstanceId, Attribute):
        assert Attribute == "disableApiTermination"
        self.asked.append(InstanceId)
        if InstanceId == "i-a":
            self.first_page_read.set()
        return {"DisableApiTermination": {"Value": InstanceId == "i-b"}}


def _paged_snapshot(client, workers):
    snap = AwsSnapshot(lambda service, region: client, ["us-east-1"], max_workers=workers)
    snap._data[("autoscaling_instances", "us-east-1", None)] = [{"InstanceId": "i-asg"}]  # read already
    return snap


def test_termination_protection_asks_each_page_of_instances_as_it_arrives():
    client = PagedInstancesClient()
    snap = _paged_snapshot(client, 4)
    assert snap.get("ec2_termination_protection", "us-east-1") == {"i-a": False, "i-b": True}
    assert client.read_before_second_page is True  # i-a was asked while the second page was being read
    assert client.page_sizes == [100, 200]  # pages grow from the first, small one
    assert sorted(client.asked) == ["i-a", "i-b"]  # the Auto Scaling group's instance is not asked
    assert [i["InstanceId"] for i in snap.get("ec2_instances", "us-east-1")] == ["i-a", "i-asg", "i-b"]


def test_termination_protection_with_one_worker_reads_the_instances_first():
    client = PagedInstancesClient()
    client.first_page_read.set()  # nothing runs beside the instance read: the second page must not wait
    snap = _paged_snapshot(client, 1)
    assert snap.get("ec2_termination_protection", "us-east-1") == {"i-a": False, "i-b": True}
    assert client.asked == ["i-a", "i-b"]


def test_a_failed_page_of_instances_fails_termination_protection_with_its_message():
    client = PagedInstancesClient(fail_second_page=True)
    snap = _paged_snapshot(client, 4)
    message = "ec2_instances in us-east-1: RuntimeError: RequestLimitExceeded: slow down"
    with pytest.raises(SourceError, match=re.escape(message)):
        snap.get("ec2_termination_protection", "us-east-1")
    assert snap.errors() == {
        ("ec2_instances", "us-east-1", None): message,
        ("ec2_termination_protection", "us-east-1", None): message,
    }
    assert client.asked == ["i-a"]  # the first page was asked; the failure is the instance read's
