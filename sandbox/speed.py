"""Where moto spends time on every request for work whose result never changes, in one place.

Each change keeps moto's answers exactly as they were (same data, same order, same errors); it only
stops moto from redoing, on every request, work whose result cannot differ from the last time.
tests/sandbox/test_speed.py compares each with moto's own code.

- Routing: for every request moto's dispatcher lists moto's package folder (one ``stat`` per service)
  and tries every service's URL pattern to map the host name to a service, while holding the lock
  all requests share. The answer for a host name never changes: it is remembered per host name.
- Action lookup: for every request moto lists every method of the service's response class
  (``inspect.getmembers``, hundreds of methods for EC2) to see whether the action is one of them.
  The classes are complete before the first request: the list is made once per class.
- EC2 tags: moto finds one resource's tags by copying and scanning the tags of every EC2 resource
  in the region, so DescribeInstances of N instances costs N x (all tagged resources). The tags
  of one resource are looked up by its id (the filter moto builds matches that id exactly).
"""

import functools

_APPLIED = False
# Host names remembered per dispatcher; S3's virtual-hosted names make the set grow with the buckets.
HOST_CACHE_LIMIT = 10000


def dispatcher_class():
    """moto's DomainDispatcherApplication, remembering which service answers each host name."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    class Dispatcher(DomainDispatcherApplication):
        def __init__(self, create_app):
            super().__init__(create_app)
            self._backend_by_host = {}

        def get_backend_for_host(self, host):
            try:
                return self._backend_by_host[host]
            except KeyError:
                pass
            backend = super().get_backend_for_host(host)
            if len(self._backend_by_host) < HOST_CACHE_LIMIT:
                self._backend_by_host[host] = backend
            return backend

    return Dispatcher


def _action_names_once_per_class() -> None:
    from moto.core import responses, utils

    @functools.cache
    def method_names(clazz):
        return frozenset(utils.method_names_from_class(clazz))

    # moto.core.responses tests ``action in method_names_from_class(cls)``, nothing else.
    responses.method_names_from_class = method_names


def _ec2_tags_by_resource_id() -> None:
    from moto.ec2.models.core import TaggedEC2Resource
    from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix

    original = TaggedEC2Resource.get_tags

    def get_tags(self):
        resource_id = getattr(self, "id", None)
        if not resource_id:
            return []
        tags = getattr(getattr(self, "ec2_backend", None), "tags", None)
        if not isinstance(tags, dict) or any(c in resource_id for c in "*?["):
            # moto's filter treats these characters as wildcards: let moto match them itself.
            return original(self)
        found = tags.get(resource_id)
        if not found:
            return []
        kind = EC2_PREFIX_TO_RESOURCE.get(get_prefix(resource_id), "")
        return [
            {"resource_id": resource_id, "key": key, "value": value, "resource_type": kind}
            for key, value in list(found.items())
        ]

    get_tags.original = original
    TaggedEC2Resource.get_tags = get_tags


def apply() -> None:
    global _APPLIED
    if _APPLIED:
        return
    _action_names_once_per_class()
    _ec2_tags_by_resource_id()
    _APPLIED = True
