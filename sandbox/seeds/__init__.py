"""Seeds: named starting states of the sandbox, built through real AWS API calls on its endpoint.

- ``empty``: nothing; moto's own defaults only (default VPCs, public AMIs).
- ``as-assessed``: the estate the security assessment describes, every weakness of the 42 findings in place.
- ``hardened``: the same estate with every weakness fixed, seeded directly (not by the collection's roles).

``apply(name, endpoint_url)`` returns a summary: the ids of what was created by kind, and under
``unsupported`` what the sandbox could not create (operations moto lacks). sandbox/README.md (Seeds) maps each
finding to the resources that show it.
"""

from sandbox.seeds import as_assessed, hardened


def _empty(endpoint_url: str) -> dict:
    return {"seed": "empty", "unsupported": []}


SEEDS = {
    "empty": _empty,
    "as-assessed": as_assessed.apply,
    "hardened": hardened.apply,
}


def apply(name: str, endpoint_url: str) -> dict:
    """Apply the seed called ``name`` to the sandbox at ``endpoint_url`` and return its summary."""
    if name not in SEEDS:
        raise ValueError(f"unknown seed {name!r}; allowed seeds: {', '.join(SEEDS)}")
    return SEEDS[name](endpoint_url)
