"""Demo data for `reticent init --demo`: invented titles, patrons, staff and a kiosk account."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

from config.settings import Settings
from core.imports import ItemRow, PatronRow, import_items, import_patrons
from core.policy.calendar import local_date
from core.policy.secret_rules import PinRule
from core.privacy.policy import publish_policy
from core.privacy.training import acknowledge_training
from core.services.accounts import add_sip_account, add_staff
from core.services.actors import local_admin
from core.store.uow import Store

SEED = 1876  # a fixed seed: every demo instance holds the same invented library

# The demo's secrets meet the default rules (PRIV-09); only its PIN is the simple one, which
# the demo configuration allows by turning `[security.pin] refuse_obvious` off.
DEMO_STAFF = (
    ("admin", "admin", "admin-demo-pass"),
    ("desk", "circulation", "desk-demo-pass"),
    ("privacy", "privacy_officer", "privacy-demo-pass"),
)
DEMO_TERMINAL = ("kiosk1", "kiosk1-demo-password")
DEMO_PIN = "1234"
DEMO_PIN_RULE = PinRule(refuse_obvious=False)
DEMO_POLICY = """Privacy policy of the demo library (version demo-1).

We keep only what lending needs: your card number, name, category, card expiry and, if you
give them, an e-mail address or phone number for notices. We do not keep a list of what you
borrowed unless you ask us to. Loans are forgotten when you return the item. You can see
everything we hold about you, and withdraw any consent, at the desk.
"""
DEMO_PATRONS_WITH_PIN = 10  # argon2 costs ~0.1 s a PIN: the rest of the demo patrons have none
RECORDS = 300
PATRONS = 200

_ADJECTIVES = (
    "Quiet",
    "Northern",
    "Hidden",
    "Last",
    "Silver",
    "Restless",
    "Paper",
    "Distant",
    "Small",
    "Burning",
    "Patient",
    "Winter",
    "Open",
    "Borrowed",
    "Careful",
    "Lost",
)
_NOUNS = (
    "Garden",
    "Harbour",
    "Library",
    "Archive",
    "River",
    "Orchard",
    "Lantern",
    "Atlas",
    "Compass",
    "Island",
    "Ledger",
    "Observatory",
    "Bridge",
    "Meadow",
    "Engine",
    "Map",
)
_GIVEN = (
    "Ada",
    "Grace",
    "Alan",
    "Ida",
    "Jorge",
    "Mira",
    "Tomas",
    "Lena",
    "Kofi",
    "Anya",
    "Ravi",
    "Noor",
    "Elena",
    "Samir",
    "Yuki",
    "Oskar",
    "Leila",
    "Marek",
    "Zora",
    "Ines",
)
_FAMILY = (
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Tanaka",
    "Novak",
    "Haddad",
    "Silva",
    "Brennan",
    "Kowalski",
    "Ivanova",
    "Mensah",
    "Castillo",
    "Virtanen",
    "Rossi",
    "Dubois",
    "Sato",
)
_MEDIA = ("book",) * 7 + ("magazine", "audio", "video", "cd")


def demo_items(rng: random.Random) -> Iterator[tuple[int, ItemRow]]:
    line = 1
    for n in range(RECORDS):
        title = f"The {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
        if n >= len(_ADJECTIVES) * len(_NOUNS) // 4:
            title += f", volume {n}"
        author = f"{rng.choice(_FAMILY)}, {rng.choice(_GIVEN)}"
        media = rng.choice(_MEDIA)
        for copy in range(1 + (n % 3 == 0)):
            line += 1
            yield (
                line,
                ItemRow(
                    barcode=f"3{n:07d}{copy}",
                    title=title,
                    author=author,
                    isbn="",
                    call_number=f"{rng.randint(0, 999):03d}.{rng.randint(1, 99)} {author[:3]}",
                    media_type=media,
                    location="stacks",
                ),
            )


def demo_patrons(rng: random.Random, today: dt.date) -> Iterator[tuple[int, PatronRow]]:
    for n in range(PATRONS):
        child = n % 7 == 0
        expires = today + dt.timedelta(days=rng.randint(30, 3 * 365))
        yield (
            n + 2,
            PatronRow(
                barcode=f"2{n:07d}",
                given_name=rng.choice(_GIVEN),
                family_name=rng.choice(_FAMILY),
                category="child" if child else "adult",
                expires_on=expires.isoformat(),
                pin=DEMO_PIN if n < DEMO_PATRONS_WITH_PIN else "",
                email="",
                phone="",
            ),
        )


def load_demo(store: Store, settings: Settings, now: dt.datetime) -> list[str]:
    """Fill a new instance with demo data; returns the lines to show the person who asked."""
    rng = random.Random(SEED)
    admin = local_admin(settings.circulation.branches[0])
    today = local_date(now, settings.circulation.calendar)
    hasher = store.env.hasher
    security = settings.security
    staff_rule, terminal_rule = security.staff_password_rule, security.terminal_password_rule
    for user, _, password in DEMO_STAFF:
        staff_rule.require(password, f"demo password of {user}")
    terminal_rule.require(DEMO_TERMINAL[1], "demo terminal password")
    staff_hashes = [(user, role, hasher.hash(password)) for user, role, password in DEMO_STAFF]
    terminal_hash = hasher.hash(DEMO_TERMINAL[1])
    with store.write() as uow:
        items = import_items(uow, admin, now, demo_items(rng))
        patrons = import_patrons(
            uow, admin, now, demo_patrons(rng, today), pin_rule=DEMO_PIN_RULE
        )
        for user, role, password_hash in staff_hashes:
            add_staff(uow, admin, now, user, role, password_hash, secret_rule=staff_rule.label)
        # PRIV-01/PRIV-15: a published policy, acknowledged by the demo staff (their training).
        publish_policy(uow, admin, now, DEMO_POLICY, "demo-1", today)
        for user, _, _ in staff_hashes:
            acknowledge_training(uow, admin, now, user)
        add_sip_account(
            uow,
            admin,
            now,
            DEMO_TERMINAL[0],
            terminal_hash,
            institution_id=settings.library.institution_id,
            location=settings.circulation.branches[0],
            secret_rule=terminal_rule.label,
        )
    return [
        f"demo data: {items.items_created} items on {items.records_created} records, "
        f"{patrons.patrons_created} patrons",
        f"demo patrons 20000000-20000009 have PIN {DEMO_PIN}; items are 300000000 upwards",
        "demo staff (user / password): " + ", ".join(f"{u} / {p}" for u, _, p in DEMO_STAFF),
        f"demo SIP2 terminal: login {DEMO_TERMINAL[0]}, password {DEMO_TERMINAL[1]}",
    ]
