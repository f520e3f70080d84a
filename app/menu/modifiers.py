"""Modifier groups (the questions an item asks, forced when their minimum is above zero) and their answers
(modifiers, with what each adds to or takes off the price and where the kitchen makes it).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.lib.clock import utcnow
from app.lib.errors import Conflict, InvalidInput
from app.lib.events import emit
from app.lib.inputs import clean_text, whole_number
from app.menu.events import MenuChanged
from app.menu.guards import record_change, row_to_change, set_archived, snapshot, station_name
from app.menu.inputs import CHOICES_MAX, DELTA_MAX_CENTS, NAME_MAX, SORT_MAX
from app.menu.models import Modifier, ModifierGroup


@dataclass(frozen=True)
class GroupFields:
    """A modifier group: how many answers a server must and may give."""

    name: str
    min_choices: int
    max_choices: int


@dataclass(frozen=True)
class ModifierFields:
    """One answer in a modifier group and what it adds to (or takes off) the price."""

    name: str
    price_delta_cents: int = 0
    station_id: int | None = None
    sort_order: int = 0


async def _check_group(session: AsyncSession, fields: GroupFields, group_id: int | None) -> GroupFields:
    name = clean_text(fields.name, label="Name", max_length=NAME_MAX)
    low = whole_number(fields.min_choices, label="Minimum choices", minimum=0, maximum=CHOICES_MAX)
    high = whole_number(fields.max_choices, label="Maximum choices", minimum=1, maximum=CHOICES_MAX)
    if low > high:
        raise InvalidInput(f"Minimum choices ({low}) cannot be more than maximum choices ({high}).")
    clash = (
        await session.exec(
            select(ModifierGroup).where(
                func.lower(ModifierGroup.name) == name.lower(),
                ModifierGroup.id != group_id,
                col(ModifierGroup.archived_at).is_(None),
            )
        )
    ).first()
    if clash is not None:
        raise Conflict(f"A modifier group named “{clash.name}” already exists.")
    return GroupFields(name=name, min_choices=low, max_choices=high)


async def create_modifier_group(session: AsyncSession, fields: GroupFields, *, actor_id: int | None) -> ModifierGroup:
    """Add a question items can ask (forced when its minimum is above zero)."""
    fields = await _check_group(session, fields, None)
    group = ModifierGroup(name=fields.name, min_choices=fields.min_choices, max_choices=fields.max_choices)
    session.add(group)
    await session.flush()
    await record_change(
        session, "menu.modifier_group.create", f"modifier_group:{group.id}", actor_id, after=snapshot(group)
    )
    await emit(session, MenuChanged("modifier_group", group.id or 0))
    return group


async def update_modifier_group(
    session: AsyncSession, group_id: int, fields: GroupFields, *, actor_id: int | None
) -> ModifierGroup:
    """Rename a group or change how many answers it takes."""
    group = await row_to_change(session, ModifierGroup, group_id, what="modifier group")
    fields = await _check_group(session, fields, group_id)
    before = snapshot(group)
    group.name, group.min_choices, group.max_choices = fields.name, fields.min_choices, fields.max_choices
    session.add(group)
    await session.flush()
    await record_change(
        session,
        "menu.modifier_group.update",
        f"modifier_group:{group_id}",
        actor_id,
        before=before,
        after=snapshot(group),
    )
    await emit(session, MenuChanged("modifier_group", group_id))
    return group


async def archive_modifier_group(session: AsyncSession, group_id: int, *, actor_id: int | None) -> ModifierGroup:
    """Stop asking a group on every item (the links stay, so restoring it asks it again)."""
    group = await row_to_change(session, ModifierGroup, group_id, what="modifier group")
    return await set_archived(session, group, "menu.modifier_group", "modifier_group", utcnow(), actor_id)


async def restore_modifier_group(session: AsyncSession, group_id: int, *, actor_id: int | None) -> ModifierGroup:
    """Ask an archived group again, on the items it was attached to."""
    group = await row_to_change(session, ModifierGroup, group_id, what="modifier group")
    if group.archived_at is not None:
        await _check_group(session, GroupFields(group.name, group.min_choices, group.max_choices), group_id)
    return await set_archived(session, group, "menu.modifier_group", "modifier_group", None, actor_id)


async def _check_modifier(
    session: AsyncSession, group_id: int, fields: ModifierFields, modifier_id: int | None
) -> ModifierFields:
    name = clean_text(fields.name, label="Name", max_length=NAME_MAX)
    delta = whole_number(
        fields.price_delta_cents, label="Price change (cents)", minimum=-DELTA_MAX_CENTS, maximum=DELTA_MAX_CENTS
    )
    sort_order = whole_number(fields.sort_order, label="Order", minimum=0, maximum=SORT_MAX)
    await station_name(session, fields.station_id, label="Station override")
    clash = (
        await session.exec(
            select(Modifier).where(
                Modifier.group_id == group_id,
                func.lower(Modifier.name) == name.lower(),
                Modifier.id != modifier_id,
                col(Modifier.archived_at).is_(None),
            )
        )
    ).first()
    if clash is not None:
        raise Conflict(f"This group already has an answer named “{clash.name}”.")
    return ModifierFields(name=name, price_delta_cents=delta, station_id=fields.station_id, sort_order=sort_order)


async def create_modifier(
    session: AsyncSession, group_id: int, fields: ModifierFields, *, actor_id: int | None
) -> Modifier:
    """Add an answer to a modifier group."""
    group = await row_to_change(session, ModifierGroup, group_id, what="modifier group")
    if group.archived_at is not None:
        raise Conflict(f"“{group.name}” is archived; restore it before adding answers.")
    fields = await _check_modifier(session, group_id, fields, None)
    modifier = Modifier(
        group_id=group_id,
        name=fields.name,
        price_delta_cents=fields.price_delta_cents,
        station_id=fields.station_id,
        sort_order=fields.sort_order,
    )
    session.add(modifier)
    await session.flush()
    await record_change(session, "menu.modifier.create", f"modifier:{modifier.id}", actor_id, after=snapshot(modifier))
    await emit(session, MenuChanged("modifier", modifier.id or 0))
    return modifier


async def update_modifier(
    session: AsyncSession, modifier_id: int, fields: ModifierFields, *, actor_id: int | None
) -> Modifier:
    """Rename an answer or change its price or station; lines already rung in keep their snapshot."""
    modifier = await row_to_change(session, Modifier, modifier_id, what="modifier")
    fields = await _check_modifier(session, modifier.group_id, fields, modifier_id)
    before = snapshot(modifier)
    modifier.name = fields.name
    modifier.price_delta_cents = fields.price_delta_cents
    modifier.station_id = fields.station_id
    modifier.sort_order = fields.sort_order
    session.add(modifier)
    await session.flush()
    await record_change(
        session, "menu.modifier.update", f"modifier:{modifier_id}", actor_id, before=before, after=snapshot(modifier)
    )
    await emit(session, MenuChanged("modifier", modifier_id))
    return modifier


async def archive_modifier(session: AsyncSession, modifier_id: int, *, actor_id: int | None) -> Modifier:
    """Stop offering an answer."""
    modifier = await row_to_change(session, Modifier, modifier_id, what="modifier")
    return await set_archived(session, modifier, "menu.modifier", "modifier", utcnow(), actor_id)


async def restore_modifier(session: AsyncSession, modifier_id: int, *, actor_id: int | None) -> Modifier:
    """Offer an archived answer again (its group must be live)."""
    modifier = await row_to_change(session, Modifier, modifier_id, what="modifier")
    if modifier.archived_at is not None:
        group = await session.get(ModifierGroup, modifier.group_id)
        if group is None or group.archived_at is not None:
            raise Conflict("Its modifier group is archived; restore the group first.")
        await _check_modifier(
            session,
            modifier.group_id,
            ModifierFields(modifier.name, modifier.price_delta_cents, modifier.station_id, modifier.sort_order),
            modifier_id,
        )
    return await set_archived(session, modifier, "menu.modifier", "modifier", None, actor_id)
