# -*- coding: utf-8 -*-

# Copyright: (c) 2026, MedCircle Cloud Operations
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The kms_key_access filter: whether a KMS key lets a principal use it, from the key's policy and grants as
amazon.aws.kms_key_info returns them. The evaluation (and what it can and cannot tell) is
plugins/module_utils/kms_access.py, shared with the modules that check keys themselves."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.medcircle.cloudops.plugins.module_utils.kms_access import EBS_LAUNCH_ACTIONS, key_access

__all__ = ["EBS_LAUNCH_ACTIONS", "kms_key_access"]


def kms_key_access(key, principal, actions=None, via_service=None, account_root_counts=False):
    """Which ``actions`` the key (one element of kms_key_info's ``kms_keys``) lets ``principal`` use."""
    try:
        return key_access(key, principal, actions, via_service, account_root_counts)
    except ValueError as error:
        raise AnsibleFilterError("kms_key_access: %s" % error) from None


class FilterModule(object):
    def filters(self):
        return {"kms_key_access": kms_key_access}
