"""Stand-in for the pip bootstrap script that ansible-test downloads.

ansible-test creates each sanity virtualenv without pip and fetches a
bootstrap script from a host that CI cannot reach (only the package
registries are). This script does the same job from the pip wheel that
Python's ensurepip bundles: it runs `pip install --upgrade <args>`, where the
args name the pip version ansible-test asks for (installed from PyPI).
"""

import ensurepip
import glob
import os
import runpy
import sys

bundled = os.path.join(os.path.dirname(ensurepip.__file__), "_bundled")
wheels = sorted(glob.glob(os.path.join(bundled, "pip-*.whl")))
if not wheels:
    sys.exit(f"get_pip: no bundled pip wheel in {bundled}")
sys.path.insert(0, wheels[-1])
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.argv = ["pip", "install", "--upgrade", *args]
runpy.run_module("pip", run_name="__main__", alter_sys=True)
