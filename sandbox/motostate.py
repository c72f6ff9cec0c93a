"""Forgetting moto's state quickly.

moto's own reset (``/moto-api/reset``) re-creates every backend that was in use and then drops
them all; re-creating an EC2 region (1,300 default AMIs) or IAM (the AWS managed policies) costs
about a second each, for objects nobody will use again. In server mode every request looks its
backend up afresh, so dropping the backends is enough: they are created again, empty, on first use.
"""

import logging

log = logging.getLogger("sandbox")


def reset_moto() -> None:
    from moto.core import base_backend
    from moto.core.model_instances import reset_model_data

    try:
        instances = base_backend.BackendDict._instances
        lock = base_backend.backend_lock
    except AttributeError:  # a moto without these internals: use its own, slower reset
        from moto.moto_api._internal.models import moto_api_backend

        log.info("falling back to moto's reset")
        moto_api_backend.reset()
        return
    with lock:
        for backend_dict in instances:
            for account_backend in backend_dict.values():
                for region_backend in account_backend.values():
                    # Anything still holding an old backend sees an empty object, not stale state.
                    region_backend.__dict__.clear()
                account_backend.clear()
            backend_dict.clear()
            # S3 keeps a global bucket name -> account map beside its backends; a stale entry
            # sends lookups of a re-created bucket round in circles.
            bucket_accounts = getattr(backend_dict, "bucket_accounts", None)
            if bucket_accounts is not None:
                bucket_accounts.clear()
        instances.clear()
    reset_model_data()
