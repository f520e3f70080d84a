"""The menu's commands live in rooms by what a manager changes: tax_rates.py, categories.py, items.py,
modifiers.py (modifier groups and their answers) and availability.py (86 and back); inputs.py reads prices
and percentages as people type them, guards.py holds what the rooms share and events.py what they announce.

Every command runs inside the caller's write transaction, refuses bad input with a message a manager can act
on (and then changes nothing, because the transaction rolls back), and leaves an audit entry with the record
before and after. Nothing history points to is ever deleted: records are archived, and archived ones can be
restored.
"""
