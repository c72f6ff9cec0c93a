"""Running a module's main() in a unit test, as Ansible runs it: arguments in, exit code and JSON out."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args

CREDENTIALS = {"access_key": "AKIDEXAMPLE", "secret_key": "secret", "region": "us-east-1"}


def run_module(main, args, capsys, **defaults):
    """(exit code, the module's JSON result) of ``main()`` run with ``args`` over test credentials and ``defaults``."""
    with patch_module_args({**CREDENTIALS, **defaults, **args}), pytest.raises(SystemExit) as exc:
        main()
    return exc.value.code, json.loads(capsys.readouterr().out)
