"""The pools the Webcasts.com dataset draws names, companies, titles and answers from.

Values are chosen to be hostile to clients: non-ASCII, emoji, markup characters, quotes,
commas and line breaks, empty strings.
"""

from __future__ import annotations

# (display, email slug). Slugs never contain digits: the registrant index appended to them keeps
# emails unique within an event.
FIRST_NAMES: list[tuple[str, str]] = [
    ("Anna", "anna"),
    ("James", "james"),
    ("Zoë", "zoe"),
    ("José", "jose"),
    ("Søren", "soren"),
    ("李", "li"),
    ("Łukasz", "lukasz"),
    ("Émilie", "emilie"),
    ("Seán", "sean"),
    ("Aylin", "aylin"),
    ("Priya", "priya"),
    ("太郎", "taro"),
    ("Chloé 🌸", "chloe"),
    ("Ahmed", "ahmed"),
    ("Björn", "bjorn"),
    ('Robert "Bobby"', "robert"),
    ("Ana María", "ana.maria"),
    ("Mike", "mike"),
    ("Sarah", "sarah"),
    ("David", "david"),
    ("Emma", "emma"),
    ("Rocket 🚀", "rocket"),
    ("Νίκος", "nikos"),
    ("Olúwa", "oluwa"),
]
LAST_NAMES: list[tuple[str, str]] = [
    ("Smith", "smith"),
    ("O'Brien", "obrien"),
    ("Müller", "mueller"),
    ("García", "garcia"),
    ("山田", "yamada"),
    ("Wójcik", "wojcik"),
    ("Nguyễn", "nguyen"),
    ("Ågren", "agren"),
    ("Dubois", "dubois"),
    ("Al-Farsi", "alfarsi"),
    ("van der Berg", "vanderberg"),
    ("Lee", "lee"),
    ("Johnson", "johnson"),
    ("Brontë", "bronte"),
    ("Šulc", "sulc"),
    ("Иванов", "ivanov"),
    ("Raghunathan", "raghunathan"),
    ("", ""),  # the last name is optional on some registration forms
]
# Weighted: example.com is common; sub.example.com checks exact (not suffix) domain matching.
DOMAINS: list[str] = [
    "example.com",
    "example.com",
    "example.com",
    "acme.io",
    "acme.io",
    "globex.co.jp",
    "initech.de",
    "sub.example.com",
    "gmail.com",
    "gmail.com",
    "umbrella-corp.com",
    "xn--bcher-kva.example",
]
COMPANIES: list[str] = [
    "Acme Corp",
    "",
    "",
    "Globex",
    "Initech GmbH",
    "Müller & Söhne KG",
    "Smith, Jones & Co.",
    "株式会社テスト",
    "<Umbrella> Labs",
    "O'Reilly Media",
    "Ωmega Ltd",
    "Café 🚀 Startups",
]
STIS: list[str] = ["", "", "", "", "newsletter", "linkedin", "partner_acme", "email-0424", "tw"]
TITLES: list[str] = [
    "Q1 Product Update & Roadmap",
    "Webinar: Zürich <Live> Q&A",
    "日本市場セミナー 2024",
    "Cloud Security 101 🔒",
    'Year-end "Ask Me Anything", part 2',
    "Data Summit — Keynote",
]
EVENT_TZS: list[str] = [
    "America/New_York",
    "Europe/London",
    "Asia/Tokyo",
    "America/Los_Angeles",
    "Australia/Sydney",
    "Europe/Berlin",
]
# Registration field label -> values ("" = left empty by the registrant).
FIELD_VALUES: dict[str, list[str]] = {
    "Job Title": ["CTO", "Marketing Manager", "Ingénieur", "", "VP, Sales", "開発者"],
    "Country": ["Japan", "United States", "Deutschland", "Côte d'Ivoire", "", "España"],
    "City, State": ["Austin, TX", "São Paulo, SP", "", "Portland, OR"],
    "Company Size": ["1-10", "11-50", "51-200", "201-1000", "1000+", ""],
    "職種 (Job Function)": ["エンジニア", "営業", "マーケティング", ""],
    "How did you hear about us?": [
        "LinkedIn",
        'Search "webinar"',
        "Colleague,\nthen a newsletter",
        "",
        "Other",
    ],
    "Industry": ["Finance", "Healthcare", "Retail & CPG", "Software", ""],
    "Pays / Région": ["France", "Belgique", "Québec", "Suisse", ""],
    "Phone": ["+1 512-555-0100", "+81 3-5555-0101", "", "+49 30 5555 0102"],
    "Zip/Postal Code": ["78701", "100-0001", "SW1A 1AA", "", "01234"],
    "Consent 🔒": ["Yes", "No", ""],
}
# Field sets of the first events (they differ on purpose; event 3 has no custom field at all);
# later events draw 1-4 labels at random.
EVENT_FIELDS: list[list[str]] = [
    ["Job Title", "Country", "City, State"],
    ["Job Title", "Company Size", "職種 (Job Function)", "How did you hear about us?"],
    ["Industry", "Pays / Région", "Phone", "Consent 🔒"],
    [],
]
SURVEYS: list[tuple[str, list[tuple[str, list[str]]]]] = [
    (
        "Post-event survey",
        [
            ("How would you rate this webcast?", ["Excellent", "Good", "Fair", "Poor"]),
            ("Would you recommend it?", ["Yes", "No", "Maybe"]),
            (
                "Comments",
                [
                    "Great talk!",
                    "Audio was choppy, <fix> please",
                    "Très bien 👍",
                    "Slides, please\nand the recording",
                ],
            ),
        ],
    ),
    ("Poll 1", [("Which topic next?", ["Security", "AI & ML", "Pricing"])]),
]
QUESTIONS: list[str] = [
    "Will the slides be shared?",
    "How does pricing work for teams > 50?",
    "¿Habrá grabación?",
    "Can you repeat the part about SSO & SAML?",
    "録画はありますか？",  # noqa: RUF001
    "What's the roadmap for <API> v3?",
    "Great session 👏 — any case studies?",
]
ANSWERS: list[str] = [
    "",  # unanswered
    "",
    "Yes, a recording follows by email.",
    "Please see the FAQ at https://example.com/faq?a=1&b=2",
    "We'll follow up offline.",
    "はい、後日お送りします。",
]
