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
- Instances by id: moto finds one instance (DescribeInstanceAttribute, ModifyInstanceAttribute, ...)
  by copying every reservation and testing every instance against no filter; the same instances are
  looked at in the same order without the copies.
- Serialising answers: for every field of every item of an answer (each instance of a DescribeInstances
  page, each of its block devices, tags, ...) moto works out again which attribute names of its Python
  object might hold the field (six alias rules, each a new object, then botocore's name conversion),
  half of the sandbox's CPU on a large describe. The names depend only on the field's shape, the
  structure it sits in, the object's class and the field's name: they are worked out once for each
  of those and kept on the shape; the value itself is still read from the object every time. With
  the names kept, a field is read with them directly (moto builds a context object per field only to
  pass it to the name rules), and the transformation moto applies to a field (the first of the
  service's paths that ends the field's path; EC2 has twenty) is looked up once per path.
- XML names: before it writes each element of an XML answer, xmltodict checks the element's name
  character by character; the names are the model's few hundred field names. A name that passed is
  remembered; a name that fails is checked (and refused) every time.
- XML answers: moto writes every XML answer through xmltodict, which sends each element, attribute
  and piece of text through the SAX XMLGenerator, several Python calls per element (a quarter of the
  sandbox's CPU on a large describe). The same document is written directly as text: the same
  elements, attributes, escaping and empty-element form, byte for byte. Anything else xmltodict
  supports (pretty printing, comments, namespaces, an output stream, a name it refuses) goes to
  xmltodict itself.
- Error answers: for every error (S3's NoSuchBucketPolicy, IAM's NoSuchEntity, ...) moto builds a
  new botocore Session to list every service botocore knows, then indexes every error shape of the
  service again. Both depend only on the installed botocore: they are made once.

And one change to how the server talks, not to what it answers:

- Connections: werkzeug's development server closes the connection after every answer (it cannot
  tell where an unread request body ends), so every request costs a new TCP connection and a new
  server thread, on both sides. The sandbox reads every request body whole before moto sees it, so
  the connection is always at the next request's first byte: it is kept open (HTTP/1.1
  keep-alive, as AWS endpoints do), with TCP_NODELAY so a small answer is not held back.
- Request headers: Python's HTTP server reads the header lines of every request with the email
  package's general parser (a third of the CPU of a small request). Header lines of the usual
  ``Name: value`` form are split directly into the same message object; anything else (folded
  lines, a name with odd characters) still goes to the email parser.
"""

import collections
import email.parser
import functools
import http.client
import re
import socket

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


def _instances_by_id_without_copies() -> None:
    from moto.ec2.exceptions import InvalidInstanceIdError
    from moto.ec2.models.instances import InstanceBackend

    original = InstanceBackend.get_instance

    def get_instance(self, instance_id):
        # moto: the first of all_instances() (every reservation, in order, copied; applies(None) is True)
        for reservation in list(self.reservations.values()):
            for instance in list(reservation.instances):
                if instance.id == instance_id:
                    return instance
        raise InvalidInstanceIdError(instance_id)

    get_instance.original = original
    InstanceBackend.get_instance = get_instance


_KNOWN_ALIAS_PROVIDERS = (
    "ExplicitAlias",
    "ShapeNameAlias",
    "NoAlias",
    "ShapePrefixAlias",
    "ClassPrefixAlias",
    "ModelAlias",
)
_KEYS_ATTR = "_sandbox_possible_keys"


_WITHOUT_SHAPE: dict = {}


def _keys_cache(shape):
    """Where the names worked out for a field of ``shape`` are kept, and the structure they hold under."""
    if shape is None:
        return _WITHOUT_SHAPE, None
    cache = shape.__dict__.get(_KEYS_ATTR)
    if cache is None:
        cache = shape.__dict__.setdefault(_KEYS_ATTR, {})
    return cache, shape.__dict__.get("parent")


def _keys_apply(picker, picker_class, providers, obj) -> bool:
    """Whether the names moto works out for ``obj`` depend only on what the cache is keyed by."""
    return (
        type(picker) is picker_class
        and (picker.alias_providers is providers[0] or tuple(picker.alias_providers) == providers[1])
        and not isinstance(obj, type)
        and "Meta" not in getattr(obj, "__dict__", ())  # aliases of this object alone
    )


def _attribute_keys_once_per_shape() -> None:
    from moto.core import serialize

    # moto's own list (the pickers' default, the same object) and what it holds
    providers = (serialize.DEFAULT_ALIAS_PROVIDERS, tuple(serialize.DEFAULT_ALIAS_PROVIDERS))
    if tuple(p.__name__ for p in providers[1]) != _KNOWN_ALIAS_PROVIDERS:
        return  # rules this module has not read: leave moto's lookup as it is

    for cls in (serialize.AttributePicker, serialize.XFormedAttributePicker):
        original = cls.__dict__["get_possible_keys"]

        def get_possible_keys(self, context, _original=original, _cls=cls):
            obj, shape = context.obj, context.shape
            if not _keys_apply(self, _cls, providers, obj):
                return _original(self, context)
            # What the rules read: the object's class (its Meta aliases, its name), the key, and the
            # shape with the structure it sits in (``parent``, set by moto before it asks).
            key = (_cls, type(obj), context.key)
            cache, parent = _keys_cache(shape)
            hit = cache.get(key)
            if hit is not None and hit[0] is parent:
                return hit[1]
            keys = tuple(_original(self, context))
            cache[key] = (parent, keys)
            return keys

        get_possible_keys.original = original
        cls.get_possible_keys = get_possible_keys
    _values_read_without_contexts(providers)


def _values_read_without_contexts(providers) -> None:
    """The serialiser's read of one field, without building the picker's context when the names are kept.

    moto builds a context object for every field of every item (the path of the field joined into a
    string among its members) only to hand it to the picker, which reads the names (kept above), then
    the value, then tries the path against every transformation of the service (EC2 has twenty). When
    the names are kept, the value is read with them directly, in their order, and the transformation
    moto would pick for the path is applied; the first time (or for any other picker) moto's own read
    runs and keeps the names.
    """
    from moto.core import serialize

    original = serialize.ResponseSerializer.__dict__["get_value"]
    pickers = (serialize.AttributePicker, serialize.XFormedAttributePicker)
    read, missing = serialize.get_value, serialize.MISSING

    def get_value(self, value, key, shape):
        picker = self._value_picker
        picker_class = type(picker)
        if picker_class in pickers and _keys_apply(picker, picker_class, providers, value):
            cache, parent = _keys_cache(shape)
            hit = cache.get((picker_class, type(value), key))
            if hit is not None and hit[0] is parent:
                # moto's read (moto.core.utils.get_value) of each name in turn, its steps written out
                keyed = hasattr(value, "__getitem__")
                for possible_key in hit[1]:
                    if "." in possible_key:
                        found = read(value, possible_key, missing)
                    elif keyed:
                        try:
                            found = value[possible_key]
                        except (KeyError, IndexError, TypeError, AttributeError):
                            found = missing
                    else:
                        found = getattr(value, possible_key, missing)
                    if found is not missing:
                        break
                else:
                    found = None
                transformers = picker.response_transformers
                if transformers:
                    transform = _transform_for(transformers, f"{'.'.join(self.path)}.{key}")
                    if transform is not None:
                        found = transform(found)
                return found
        return original(self, value, key, shape)

    get_value.original = original
    serialize.ResponseSerializer.get_value = get_value


# transformations dict id -> (the dict, its paths when read, {field path: the path that applies or None})
_TRANSFORM_PATHS: dict = {}


def _transform_for(transformers, key_path):
    """The transformation moto applies to the field at ``key_path``: the first whose path ends it.

    Which path applies depends only on the paths of the dict, in their order; moto adds paths to a
    service's dict as it runs (never removes one), so the answers kept are dropped when it grows.
    The function is read from the dict every time: moto may replace it under the same path.
    """
    kept = _TRANSFORM_PATHS.get(id(transformers))
    if kept is None or kept[0] is not transformers or kept[1] != len(transformers):
        kept = _TRANSFORM_PATHS[id(transformers)] = (transformers, len(transformers), {})
    paths = kept[2]
    if key_path in paths:
        path = paths[key_path]
    else:
        path = next((p for p in transformers if key_path.endswith(p)), None)
        if len(paths) < HOST_CACHE_LIMIT:
            paths[key_path] = path
    return None if path is None else transformers[path]


def _xml_names_checked_once() -> None:
    import xmltodict

    original = getattr(xmltodict, "_validate_name", None)
    if original is None or hasattr(original, "original"):
        return
    accepted = set()

    def _validate_name(value, kind):
        if type(value) is str and (value, kind) in accepted:
            return
        original(value, kind)  # raises for a bad name
        if type(value) is str and len(accepted) < HOST_CACHE_LIMIT:
            accepted.add((value, kind))

    _validate_name.original = original
    xmltodict._validate_name = _validate_name


class _NotPlain(Exception):
    """A document the direct writer leaves to xmltodict."""


_XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
_NO_CHILD = object()


def _xml_text(value):
    """xmltodict's text of a value (its _convert_value_to_string for the default encoding)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def _xml_escape(text):
    # xml.sax.saxutils.escape: & first, then > and <
    if "&" in text:
        text = text.replace("&", "&amp;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    return text


def _direct_unparse(input_dict, full_document, short):
    """xmltodict.unparse(input_dict, full_document=..., short_empty_elements=short) for a plain document:
    the same text, written directly. Raises _NotPlain where xmltodict would do more (or raise)."""
    from xml.sax.saxutils import quoteattr

    import xmltodict

    validate = xmltodict._validate_name
    names = _XML_NAMES_OK
    out = []
    append = out.append

    def name_ok(name, kind):
        if type(name) is not str:
            raise _NotPlain
        if (name, kind) not in names:
            try:
                validate(name, kind)
            except ValueError:
                raise _NotPlain from None
            if len(names) < HOST_CACHE_LIMIT:
                names.add((name, kind))

    def emit(key, value, top):
        if key == "#comment":
            raise _NotPlain
        name_ok(key, "element")
        if not hasattr(value, "__iter__") or isinstance(value, (str, bytes, bytearray, memoryview, dict)):
            value = (value,)
        elif not isinstance(value, (list, tuple)):
            raise _NotPlain  # a generator or other iterable: read once, by xmltodict
        for index, item in enumerate(value):
            if top and index > 0:
                raise _NotPlain  # xmltodict: document with multiple roots
            if item is None:
                item = {}
            elif not isinstance(item, (dict, str)):
                item = _xml_text(item)
            if isinstance(item, str):
                if item:
                    append(f"<{key}>{_xml_escape(item)}</{key}>")
                else:
                    append(f"<{key}/>" if short else f"<{key}></{key}>")
                continue
            text = None
            attrs = ""
            children = []
            for child_key, child in item.items():
                if child_key == "#text":
                    text = None if child is None else _xml_text(child)
                    continue
                if isinstance(child_key, str) and child_key.startswith("@"):
                    if child_key == "@xmlns" and isinstance(child, dict):
                        raise _NotPlain
                    child = "" if child is None else _xml_text(child)
                    name_ok(child_key[1:], "attribute")
                    attrs += f" {child_key[1:]}={quoteattr(child)}"
                    continue
                if isinstance(child, list) and not child:
                    continue
                children.append((child_key, child))
            if short:
                append("<" + key + attrs)
                mark = len(out)
                append(">")  # replaced by "/>" when nothing follows
                for child_key, child in children:
                    emit(child_key, child, False)
                if text:
                    append(_xml_escape(text))
                if len(out) == mark + 1:
                    out[mark] = "/>"
                else:
                    append(f"</{key}>")
            else:
                append(f"<{key}{attrs}>")
                for child_key, child in children:
                    emit(child_key, child, False)
                if text:
                    append(_xml_escape(text))
                append(f"</{key}>")

    if full_document:
        append(_XML_DECLARATION)
    seen_root = False
    for key, value in input_dict.items():
        if key == "#comment" or (full_document and seen_root):
            raise _NotPlain
        emit(key, value, full_document)
        seen_root = True
    if full_document and not seen_root:
        raise _NotPlain
    return "".join(out)


_XML_NAMES_OK = set()


def _xml_written_directly() -> None:
    import xmltodict

    original = xmltodict.unparse
    if hasattr(original, "original"):
        return

    def unparse(input_dict, output=None, encoding="utf-8", full_document=True, short_empty_elements=False, **kwargs):
        plain = (
            output is None
            and encoding == "utf-8"
            and type(input_dict) in (dict, collections.OrderedDict)
            and kwargs.get("comment_key", "#comment") == "#comment"
            and not kwargs.get("pretty")
            and not set(kwargs) - {"pretty", "comment_key"}
        )
        if plain:
            try:
                return _direct_unparse(input_dict, full_document, bool(short_empty_elements))
            except _NotPlain:
                pass
        return original(
            input_dict,
            output=output,
            encoding=encoding,
            full_document=full_document,
            short_empty_elements=short_empty_elements,
            **kwargs,
        )

    unparse.original = original
    xmltodict.unparse = unparse


def _error_lookups_once() -> None:
    from moto.core import errors, utils

    # errors.get_exception_service_model calls ``utils.service_name_from_moto_package_name``, nothing else.
    if not hasattr(utils.service_name_from_moto_package_name, "cache_info"):
        utils.service_name_from_moto_package_name = functools.cache(utils.service_name_from_moto_package_name)
    shared = {}  # serviceId -> ErrorLookup, for every factory moto makes

    def __init__(self):
        self._error_lut_cache = shared

    errors.ErrorLookupFactory.__init__ = __init__


# A header name as the email parser accepts it at the start of a header line: printable, no colon.
_HEADER_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+\Z")
_END_OF_HEADERS = (b"\r\n", b"\n", b"")


def parse_headers(fp, _class=http.client.HTTPMessage):
    """http.client.parse_headers, with the usual header lines split directly (see the module's docstring)."""
    lines = http.client._read_headers(fp)
    message = _class()
    for raw in lines:
        if raw in _END_OF_HEADERS:
            break
        name, colon, value = raw.decode("iso-8859-1").partition(":")
        if not colon or not _HEADER_NAME.match(name):
            return email.parser.Parser(_class=_class).parsestr(b"".join(lines).decode("iso-8859-1"))
        # as email's compat32 policy stores a header line: value without leading blanks or the line end
        message.set_raw(name, value.lstrip(" \t").rstrip("\r\n"))
    message.set_payload("")
    return message


class _NothingToDrain:
    """werkzeug.serving's view of the selectors module: after an answer it reads whatever the client
    sent beyond the request, which on a kept-open connection is the client's next request. The
    sandbox has read every body whole (KeepAliveHandler.make_environ): there is never anything to drain."""

    EVENT_READ = 1

    class DefaultSelector:
        def register(self, *args, **kwargs):
            pass

        def select(self, timeout=None):
            return []

        def close(self):
            pass


def keep_alive_handler(base):
    """A request handler like ``base`` (moto's) that keeps connections open between requests."""
    from werkzeug import serving

    from sandbox import detect

    serving.selectors = _NothingToDrain
    http.client.parse_headers = parse_headers  # read by http.server for every request line

    class KeepAliveHandler(base):
        # An idle connection is closed after this many seconds (a client reconnects on its next call).
        timeout = 300

        def setup(self):
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def make_environ(self):
            environ = super().make_environ()
            detect.read_body(environ)  # the whole body, Content-Length or chunked: the next byte is the next request
            return environ

        def send_header(self, keyword, value):
            # werkzeug sends "Connection: close" on every answer; keep the connection unless the
            # client asked to close it or the answer failed half-way (close_connection is then set).
            if keyword.lower() == "connection" and value.lower() == "close" and not self.close_connection:
                return
            super().send_header(keyword, value)

    return KeepAliveHandler


def apply() -> None:
    global _APPLIED
    if _APPLIED:
        return
    _action_names_once_per_class()
    _ec2_tags_by_resource_id()
    _error_lookups_once()
    _instances_by_id_without_copies()
    _attribute_keys_once_per_shape()
    _xml_names_checked_once()
    _xml_written_directly()
    _APPLIED = True
