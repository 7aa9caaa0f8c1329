"""Roles and what each may do: the one permission matrix of the service.

Every route declares the permission it needs; :data:`MATRIX` says which roles
hold it.  ``tests/api/test_permissions.py`` checks every cell.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["MATRIX", "ROLES", "Permission", "allowed"]

ROLES = ("admin", "physician", "physicist", "nurse", "viewer")


class Permission(str, Enum):
    """Actions on the service."""

    READ_PATIENT = "read_patient"
    READ_IDENTITY = "read_identity"
    EDIT_PATIENT = "edit_patient"
    RECORD_LABS = "record_labs"
    EVALUATE_ELIGIBILITY = "evaluate_eligibility"
    PLAN_COURSE = "plan_course"
    RECORD_ADMINISTRATION = "record_administration"
    RECORD_DOSIMETRY = "record_dosimetry"
    DECIDE_NEXT_CYCLE = "decide_next_cycle"
    RECORD_RESPONSE = "record_response"
    MANAGE_USERS = "manage_users"
    VERIFY_AUDIT = "verify_audit"


_P = Permission
#: Role → permissions.  Physicians select and decide, physicists do dosimetry, nurses
#: record administrations and labs, viewers read pseudonymised data, admins manage
#: accounts and the audit trail (and read, to support the others).
MATRIX: dict[str, frozenset[Permission]] = {
    "admin": frozenset({_P.READ_PATIENT, _P.MANAGE_USERS, _P.VERIFY_AUDIT}),
    "physician": frozenset(
        {
            _P.READ_PATIENT,
            _P.READ_IDENTITY,
            _P.EDIT_PATIENT,
            _P.RECORD_LABS,
            _P.EVALUATE_ELIGIBILITY,
            _P.PLAN_COURSE,
            _P.RECORD_ADMINISTRATION,
            _P.DECIDE_NEXT_CYCLE,
            _P.RECORD_RESPONSE,
        }
    ),
    "physicist": frozenset({_P.READ_PATIENT, _P.RECORD_DOSIMETRY}),
    "nurse": frozenset(
        {
            _P.READ_PATIENT,
            _P.READ_IDENTITY,
            _P.EDIT_PATIENT,
            _P.RECORD_LABS,
            _P.RECORD_ADMINISTRATION,
        }
    ),
    "viewer": frozenset({_P.READ_PATIENT}),
}


def allowed(role: str, permission: Permission) -> bool:
    """Whether ``role`` holds ``permission`` (unknown roles hold nothing)."""
    return permission in MATRIX.get(role, frozenset())
