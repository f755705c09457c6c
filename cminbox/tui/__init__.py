"""The Textual face of cminbox: a thin app, screens, widgets, one stylesheet.

Widgets render state; handlers call the core's triage verbs (cminbox.core.inbox);
background work (polling, sending) runs in workers that post messages.
"""
