"""The people of the demo community the team already knows, recorded when a demo starts: the
advocate who answers others, a VIP and the two trolls. The demo's rules read them (a troll's
posts are muted as they arrive, a VIP's get high priority, the advocate's answers are tagged)."""

from __future__ import annotations

from cminbox.core.config import Config
from cminbox.core.people import Person, identity, new_id
from cminbox.core.store_api import StoreApi
from cminbox.demo.state import HOST

KNOWN = [
    ("mira", "Mira Okafor", "advocate"),
    ("priya", "Priya Raman", "vip"),
    ("angrybird404", "🐦 angry bird", "troll"),
    ("trollface", "definitely not a troll", "troll"),
]


def seed_people(store: StoreApi, config: Config) -> list[Person]:
    """Tag the demo's known people on the demo's channel(s), once: a store that already holds
    people (a kept --data-dir, the second teammate) is left as it is."""
    if store.people():
        return []
    records = [
        Person(id=new_id(), name=name, identities=[identity(ch.name, f"@{user}@{HOST}")], tags=[tag])
        for ch in config.channels
        for user, name, tag in KNOWN
    ]
    return store.write_people(records, actor="demo", label="demo: the community's known people")
