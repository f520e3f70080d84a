"""Roles and the named permissions each one carries."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a person does in the restaurant."""

    SERVER = "server"
    BARTENDER = "bartender"
    HOST = "host"
    COOK = "cook"
    MANAGER = "manager"
    ADMIN = "admin"


class Perm(StrEnum):
    """A named capability that routes and services check."""

    FLOOR_VIEW = "floor.view"
    CHECKS_OPEN = "checks.open"
    ORDERS_ENTER = "orders.enter"
    CHECKS_EDIT_ANY = "checks.edit_any"
    CHECKS_TRANSFER = "checks.transfer"
    VOID_AFTER_SEND = "orders.void_after_send"
    DISCOUNT = "checks.discount"
    COMP = "checks.comp"
    PRICE_OVERRIDE = "checks.price_override"
    PAYMENTS_TAKE = "payments.take"
    CHECKS_REOPEN = "checks.reopen"
    REFUND = "checks.refund"
    TIPS_ADJUST = "tips.adjust"
    KITCHEN_VIEW = "kitchen.view"
    KITCHEN_BUMP = "kitchen.bump"
    MENU_MANAGE = "menu.manage"
    EIGHTY_SIX = "menu.eighty_six"
    FLOOR_MANAGE = "floor.manage"
    STAFF_MANAGE = "staff.manage"
    DEVICES_MANAGE = "devices.manage"
    STATIONS_MANAGE = "stations.manage"
    PRINTERS_MANAGE = "printers.manage"
    REPORTS_VIEW = "reports.view"
    AUDIT_VIEW = "audit.view"
    DRAWER_MANAGE = "drawer.manage"
    NO_SALE = "drawer.no_sale"
    DAY_CLOSE = "day.close"
    SERVER_CHECKOUT = "server.checkout"
    INVENTORY_MANAGE = "inventory.manage"
    ACCOUNTING_MANAGE = "accounting.manage"
    GUESTS_MANAGE = "guests.manage"
    GUESTS_ERASE = "guests.erase"


_FRONT_OF_HOUSE = {
    Perm.FLOOR_VIEW,
    Perm.CHECKS_OPEN,
    Perm.ORDERS_ENTER,
    Perm.PAYMENTS_TAKE,
    Perm.SERVER_CHECKOUT,
    Perm.GUESTS_MANAGE,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.SERVER: frozenset(_FRONT_OF_HOUSE),
    Role.BARTENDER: frozenset(_FRONT_OF_HOUSE | {Perm.NO_SALE, Perm.KITCHEN_VIEW, Perm.KITCHEN_BUMP}),
    Role.HOST: frozenset({Perm.FLOOR_VIEW, Perm.CHECKS_OPEN, Perm.GUESTS_MANAGE}),
    Role.COOK: frozenset({Perm.KITCHEN_VIEW, Perm.KITCHEN_BUMP, Perm.EIGHTY_SIX}),
    Role.MANAGER: frozenset(Perm),
    Role.ADMIN: frozenset(Perm),
}


def permissions_for(role: Role) -> frozenset[Perm]:
    """The permissions a role carries."""
    return ROLE_PERMISSIONS[role]
