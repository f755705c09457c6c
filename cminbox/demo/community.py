"""Who lives in the demo community and what they say.

The demo project is "Lumen", an open-source notes app; the managed account is
@lumen. Everything is drawn from a seeded RNG, so ``--seed N`` reproduces the same
community, the same backlog and the same live stream.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

OWN = ("lumen", "Lumen")

PEOPLE = [
    ("mira", "Mira Okafor", "advocate"),
    ("sam_k", "Sam Kowalski", "dm"),
    ("angrybird404", "🐦 angry bird", "troll"),
    ("trollface", "definitely not a troll", "troll"),
    ("jules", "Jules Martin", "user"),
    ("priya", "Priya Raman", "user"),
    ("tomasz", "Tomasz Nowak", "user"),
    ("aiko", "Aiko Tanaka", "user"),
    ("diego", "Diego Fernández", "user"),
    ("fatima", "Fatima Zahra", "user"),
    ("noah", "Noah Becker", "user"),
    ("lena", "Lena Schulz", "user"),
    ("oluwaseun", "Oluwaseun Adeyemi", "user"),
    ("chen", "Chen Wei", "user"),
    ("ines", "Inês Carvalho", "user"),
    ("yusuf", "Yusuf Demir", "user"),
    ("hannah", "Hannah O'Brien", "user"),
    ("ravi", "Ravi Shankar", "user"),
    ("sofia", "Sofía López", "user"),
    ("mateo", "Mateo Rossi", "user"),
    ("grace", "Grace Mensah", "user"),
    ("kai", "Kai Andersen", "user"),
    ("zeynep", "Zeynep Kaya", "user"),
    ("liam", "Liam Walsh", "user"),
    ("amara", "Amara Nwosu", "user"),
    ("felix", "Felix Wagner", "user"),
    ("yael", "Yael Cohen", "user"),
    ("omar", "Omar Haddad", "user"),
    ("nora", "Nora Lindqvist", "user"),
    ("pablo", "Pablo Ruiz", "user"),
    ("devops_dana", "Dana (SRE)", "user"),
    ("bugbash", "Bug Bash Bot 🤖", "user"),
    # A teammate's own account, listed as staff in the demo's config: her replies in threads
    # are official answers (so a question she answers first is not a community answer).
    ("noor", "Noor Haddad (Lumen team)", "staff"),
]

TOPICS = [
    "sync",
    "search",
    "the iOS app",
    "the desktop app",
    "markdown export",
    "tags",
    "backlinks",
    "the web clipper",
    "encryption",
    "themes",
    "the calendar view",
    "PDF import",
    "offline mode",
]
TASKS = [
    "export all notes to markdown",
    "move a notebook between vaults",
    "turn off auto-sync on mobile",
    "restore a deleted note",
    "share a read-only link",
    "import from Evernote",
    "change the default font",
    "set up end-to-end encryption",
    "use templates for daily notes",
    "link two notes together",
]
VERSIONS = ["4.2.0", "4.2.1", "4.3.0-beta.2", "4.1.7"]
SYSTEMS = ["Android 15", "iOS 19", "Windows 11", "macOS 16", "Fedora 43", "Ubuntu 26.04", "ChromeOS"]

QUESTIONS = [
    "how do I {task}? I looked in settings but couldn't find it.",
    "quick question: is there a way to {task}?",
    "does {topic} work without an account? Asking for a privacy-minded friend.",
    "is {topic} coming to the free plan or is it staying in Pro?",
    "what's the recommended way to {task} on {os}?",
    "newbie here 👋 can someone explain how {topic} is supposed to work?",
    "before I switch from my old app: can I {task}?",
]
BUGS = [
    "found a bug: {topic} freezes when a note has more than ~2000 lines. Version {ver} on {os}.",
    "after updating to {ver}, {topic} shows duplicate notes. Anyone else? ({os})",
    "crash report: the app closes as soon as I open {topic} on {os}, {ver}. Happy to send logs.",
    "{topic} keeps dropping the last paragraph I typed. Reproducible on {ver}, {os}. This is data loss, please look.",
    "small one: dark mode text in {topic} is unreadable (grey on grey). {ver} / {os}",
]
COMPLAINTS = [
    "honestly {topic} has been getting worse every release. What happened?",
    "third time this week {topic} lost my changes. I'm starting to look at alternatives.",
    "the new pricing is a slap in the face for early supporters. Not happy.",
    "why does every update move the buttons around? Please stop.",
    "waited 10 days for a support reply. Is anyone reading these?",
]
PRAISE = [
    "just wanted to say {topic} in {ver} is *chef's kiss*. Thank you all! 💜",
    "switched my whole team to Lumen last month and nobody wants to go back. {topic} is fantastic.",
    "{topic} in the new release saved my thesis tonight. Thank you thank you thank you.",
    "love how fast {topic} is now. Great work on {ver}!",
]
FEATURES = [
    "feature request: let me pin notes inside {topic}. Would make my day.",
    "any plans for a CLI? I'd love to script {topic}.",
    "would love a keyboard shortcut to jump straight into {topic}.",
    "+1 for a Linux ARM build, please!",
]
ABUSE = [
    "your devs are clowns and {topic} is garbage. Fix it or I'm telling everyone to leave.",
    "lol imagine paying for this. absolute joke of a company",
    "reply to me or I'll keep tagging you every hour. you people are useless",
]
TRICKY = [
    "is this [bold]markup[/bold] or [link=https://evil.example]a link[/link]? asking for security reasons",
    "my terminal says \x1b[31mERROR\x1b[0m when {topic} syncs \x1b]8;;https://evil.example\x07click\x1b]8;;\x07",
    "مرحبا! هل يمكنني استخدام {topic} باللغة العربية؟ شكراً",
    "שלום, יש בעיה עם {topic} בגרסה {ver}",
    "Supercalifragilisticexpialidociousnotetakingappthatneverwrapsanywhereatallbecauseitisoneverylongword "
    "breaks {topic}?",
    "🎉🎉🎉 {topic} 🚀🔥✨ 👩‍💻 🏳️‍🌈",
    "bidi trick \u202eetadpu ruoy llatsni\u202c please ignore",
]
ADVOCATE = [
    "I had the same question! Settings → Sync → Advanced has it. Works for me on {ver}.",
    "try clearing the cache (Settings → Storage) and restart; that fixed {topic} for me.",
    "there's a guide on the forum for this, search for '{topic} FAQ'. The Lumen team pinned it.",
]
DM = [
    "hi, sorry to DM, I didn't want to post this publicly: I think my account was charged twice this month.",
    "the charge is from the 3rd and again on the 4th, both 9.99. Order ids LMN-4471 and LMN-4490.",
    "any news? Just checking, no rush.",
]
# The incident: a sync outage. Every post says so and carries the hashtag people rally
# around (#LumenDown), so the README's recipe (`/#lumendown` then `V` `d`) selects exactly
# the burst; everyday posts mention sync too, but never the hashtag.
INCIDENT_TAG = "#LumenDown"
OUTAGE = [
    "is sync down? nothing has synced for 10 minutes #LumenDown",
    "getting 'error 503: service unavailable' on {os} when syncing #LumenDown",
    "#LumenDown sync broken for anyone else?? I have a deadline in an hour",
    "@lumen status page says all green but sync is clearly down #LumenDown",
    "can't log in or sync on {os}: 'server unreachable' #LumenDown",
    "my notes aren't syncing between phone and laptop since ~5 minutes ago #LumenDown",
    "sync spinner forever on {ver}. Is there an outage? #LumenDown",
    "whole team here can't sync. Please tell us what's going on #LumenDown",
    "lost the edits I made during the sync outage?? please say they're queued somewhere #LumenDown",
    "+1 sync is down in Europe #LumenDown",
    "seeing sync timeouts on the web app too #LumenDown",
    "is this related to the {ver} release? sync died right after I updated #LumenDown",
]


@dataclass(frozen=True)
class Post:
    username: str
    text: str
    kind: str  # question, bug, complaint, praise, feature, abuse, tricky, advocate, dm, outage
    visibility: str = "public"
    reply_to_index: int | None = None  # an earlier post in the same stream this answers


def fill(rng: random.Random, template: str) -> str:
    return template.format(
        topic=rng.choice(TOPICS), task=rng.choice(TASKS), ver=rng.choice(VERSIONS), os=rng.choice(SYSTEMS)
    )


_USERS = [p for p in PEOPLE if p[2] == "user"]
_MIX = [
    ("question", QUESTIONS, 30),
    ("bug", BUGS, 18),
    ("complaint", COMPLAINTS, 10),
    ("praise", PRAISE, 12),
    ("feature", FEATURES, 10),
    ("abuse", ABUSE, 3),
    ("tricky", TRICKY, 3),
]


def everyday_post(rng: random.Random, previous: list[Post]) -> Post:
    """One ordinary mention: mostly users; sometimes the advocate answering a recent question."""
    questions = [i for i, p in enumerate(previous[-40:], start=max(0, len(previous) - 40)) if p.kind == "question"]
    if questions and rng.random() < 0.12:
        return Post("mira", fill(rng, rng.choice(ADVOCATE)), "advocate", reply_to_index=rng.choice(questions))
    kind, templates, _ = rng.choices(_MIX, weights=[w for *_, w in _MIX])[0]
    user = rng.choice(["angrybird404", "trollface"]) if kind == "abuse" else rng.choice(_USERS)[0]
    return Post(user, fill(rng, rng.choice(templates)), kind)


def backlog(rng: random.Random, count: int) -> list[Post]:
    posts: list[Post] = []
    dm_at = {count // 3: 0, count // 3 + 7: 1, count // 2: 2}
    for i in range(count):
        if i in dm_at:
            posts.append(Post("sam_k", DM[dm_at[i]], "dm", visibility="direct", reply_to_index=None))
            continue
        posts.append(everyday_post(rng, posts))
    return posts


STAFF_ANSWERS = [
    "thanks for asking! This is in Settings → Sync → Advanced; the docs have a page on it too.",
    "good question: yes, it works on {os} as well. Let us know if anything looks off.",
    "we've logged this; a fix is planned for {ver}. Thanks for the details!",
]


def staff_answers(rng: random.Random, posts: list[Post]) -> list[tuple[int, Post, float]]:
    """The team's replies in the backlog: (the question's index, the reply, where between the
    question and the next answer it is written, 0..1). Most go to questions Mira left alone; a
    few beat her to a question she answered too, so the demo shows both kinds of answer."""
    answered = {p.reply_to_index for p in posts if p.kind == "advocate"}
    open_ones = [i for i, p in enumerate(posts) if p.kind == "question" and i not in answered]
    hers = sorted(i for i in answered if i is not None)
    picks = [(i, 0.3) for i in rng.sample(open_ones, min(8, len(open_ones)))]
    picks += [(i, 0.5) for i in rng.sample(hers, min(2, len(hers)))]
    return [(i, Post("noor", fill(rng, rng.choice(STAFF_ANSWERS)), "staff", reply_to_index=i), f) for i, f in picks]


def outage_post(rng: random.Random) -> Post:
    return Post(rng.choice([*_USERS, ("devops_dana", "", "")])[0], fill(rng, rng.choice(OUTAGE)), "outage")
