"""Which WSIS action lines and SDGs a contribution concerns, read from its text.

Two passes, both deterministic and free of I/O:

1. **Explicit mentions** — "Action Line C4", "Action Lines C1, C3 and C7", "C7 e-learning",
   "e-learning (C7)", "(C4)", "the Action Line on Capacity Building", "SDG 4", "SDGs 4 and 9",
   "Goal 4", "Goals 3, 4 and 5", "Sustainable Development Goal 16". They are certain
   (confidence 1.0). Codes are bounded on both sides, so "C40 Cities", "Goal 40",
   "SDG 4.5 million" or a page number never match, and a bare code counts only where the text
   names it as an action line (after "Action Line", or alone in brackets), because "C4"
   elsewhere may be a plant, a car or an explosive.
2. **Inferred tags** — a curated vocabulary of cues per action line, C7 application and SDG,
   drawn from the themes of the Geneva Plan of Action and the SDG targets. Each cue has a
   strength; the confidence of a code grows with the strength and the number of *distinct* cues
   found (a word repeated twenty times is one cue), and the sentence holding the strongest cues
   is kept as evidence so an editor can judge the suggestion. A cue inside a longer cue (or
   inside a known name such as "Commission on Science and Technology for Development") does not
   count on its own: "enabling environment" is C6, not e-environment.

An inferred tag never repeats an explicit one, and a C7 application always brings the C7 action
line with it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from wsis_shared.vocabulary import CATEGORY_NAMES, SDG_NAMES, ActionLine, Category
from wsis_stocktaking.domain.contributions import C7, Tag, implied_codes, kind_of

C7_APPLICATIONS: Final[dict[str, str]] = {
    category.value.split(".", 1)[1]: category.value
    for category in Category
    if category.value.startswith(f"{C7}.")
}
"""Application name ("e-learning") -> its code ("C7.e-learning")."""


ACTION_LINE_CODES: Final[tuple[str, ...]] = tuple(
    code
    for line in ActionLine
    for code in ([line.value, *sorted(C7_APPLICATIONS.values())] if line == C7 else [line.value])
)
SDG_CODES: Final[tuple[str, ...]] = tuple(f"SDG{number}" for number in SDG_NAMES)
ALL_CODES: Final[tuple[str, ...]] = ACTION_LINE_CODES + SDG_CODES
_CODE_ORDER: Final = {code: index for index, code in enumerate(ALL_CODES)}

EXPLICIT_CONFIDENCE: Final = 1.0
MIN_INFERRED_CONFIDENCE: Final = 0.4
"""Below this an inferred code is not suggested: one medium cue alone (0.35) is not enough,
one strong cue (0.6) or a medium and a weak one together (0.45) are."""
MAX_INFERRED_CONFIDENCE: Final = 0.95
"""Only an explicit mention or an editor makes a tag certain."""
STRONG, MEDIUM, WEAK = 0.6, 0.35, 0.15
EVIDENCE_MAX_CHARS: Final = 400
CUES_KEPT: Final = 8


# --- codes --------------------------------------------------------------------------------------


def code_order(code: str) -> int:
    return _CODE_ORDER.get(code, len(_CODE_ORDER))


def label_of(code: str) -> str:
    """The official name of a code, for people reading a tag."""
    if code.startswith("SDG"):
        number = int(code.removeprefix("SDG"))
        return f"SDG {number}: {SDG_NAMES[number]}"
    if code == C7:
        return "ICT applications"
    return CATEGORY_NAMES[Category(code)]


_APPLICATION_WORDS = "|".join(name.removeprefix("e-") for name in C7_APPLICATIONS)
_CODE_INPUT = re.compile(
    rf"""^\s*(?:
        (?P<sdg>sdg)\s*[-#]?\s*0?(?P<goal>\d{{1,2}})
      | c\s*(?P<line>\d{{1,2}})
        (?:\s*[.:\s-]\s*(?:ict\s+applications?\s*[:\s-]\s*)?e\s*-?\s*(?P<app>{_APPLICATION_WORDS}))?
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)


def parse_code(raw: str) -> str | None:
    """The canonical code for what an editor typed ("c4", "SDG 4", "C7 e-Learning",
    "C7.e-learning"), or None if it names no action line, C7 application or SDG."""
    found = _CODE_INPUT.match(raw)
    if found is None:
        return None
    if found["sdg"]:
        code = f"SDG{int(found['goal'])}"
    elif found["app"]:
        if int(found["line"]) != 7:
            return None
        code = C7_APPLICATIONS[f"e-{found['app'].lower()}"]
    else:
        code = f"C{int(found['line'])}"
    return code if code in _CODE_ORDER else None


# --- sentences ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Span:
    start: int
    end: int


_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_WRAPPED_LINE_MIN_CHARS: Final = 60
_SHORTEST_SENTENCE_WORDS: Final = 4


def _sentences(text: str) -> list[_Span]:
    """Sentences and headings, as spans of `text`.

    Paragraphs end at blank lines. Inside one, a line break ends a sentence unless the line was
    wrapped: the next line goes on in lower case, this one ends in a comma or a dash, or it is a
    long line without final punctuation (as text extracted from a PDF is)."""
    spans: list[_Span] = []
    for block in _blocks(text):
        start = block.start
        lines = text[block.start : block.end].split("\n")
        offset = block.start
        for line, following in zip(lines, [*lines[1:], None], strict=True):
            offset += len(line) + 1
            if following is None or _wrapped(line, following):
                continue
            spans.extend(_split_sentences(text, start, offset - 1))
            start = offset
        spans.extend(_split_sentences(text, start, block.end))
    return [span for span in spans if text[span.start : span.end].strip()]


def _blocks(text: str) -> Iterator[_Span]:
    start = 0
    for brk in _BLANK_LINE.finditer(text):
        yield _Span(start, brk.start())
        start = brk.end()
    yield _Span(start, len(text))


def _wrapped(line: str, following: str) -> bool:
    line, following = line.rstrip(), following.lstrip()
    if not line or not following:
        return False
    if following[0].islower() or line[-1] in ",;(-–":
        return True
    return len(line) >= _WRAPPED_LINE_MIN_CHARS and line[-1] not in '.!?:"”'


def _split_sentences(text: str, start: int, end: int) -> Iterator[_Span]:
    """Sentences end at a full stop (or ! ?) before a capital; a piece of fewer than four
    words ("Action Line C4.", "No. 5.") stays with what follows."""
    for brk in _SENTENCE_END.finditer(text, start, end):
        if len(text[start : brk.start()].split()) < _SHORTEST_SENTENCE_WORDS:
            continue
        yield _Span(start, brk.start() + 1)
        start = brk.end()
    yield _Span(start, end)


def _evidence(text: str, sentence: _Span, focus: int) -> str:
    """The sentence, squeezed to one line; a very long one is cut around `focus`."""
    start, end = sentence.start, sentence.end
    if end - start > EVIDENCE_MAX_CHARS:
        half = EVIDENCE_MAX_CHARS // 2
        start = max(start, min(focus - half, end - EVIDENCE_MAX_CHARS))
        end = min(end, start + EVIDENCE_MAX_CHARS)
    snippet = " ".join(text[start:end].split())
    if start > sentence.start:
        snippet = "…" + snippet.split(" ", 1)[-1]
    if end < sentence.end:
        snippet = snippet.rsplit(" ", 1)[0] + "…"
    return snippet


class _SentenceIndex:
    def __init__(self, text: str) -> None:
        self.text = text
        self.spans = _sentences(text)
        self._starts = [span.start for span in self.spans]

    def at(self, position: int) -> int:
        """The index of the sentence holding `position` (the nearest one before it if the
        position falls between sentences)."""
        return max(0, bisect_right(self._starts, position) - 1)

    def evidence(self, position: int) -> str:
        return _evidence(self.text, self.spans[self.at(position)], position)


# --- explicit mentions --------------------------------------------------------------------------

_AL = r"(?<![\w.-])C(?P<n>1[01]|[1-9])(?!\d|\.\d)"
_APP = rf"e[\s-]?(?:{_APPLICATION_WORDS})\b"
_APP_AFTER_CODE = rf"(?:\s*[.:–—-]\s*|\s+)(?:ICT\s+applications?\s*[:–—-]?\s*)?{_APP}"
_AL_ITEM = rf"C(?:1[01]|[1-9])(?!\d|\.\d)(?:{_APP_AFTER_CODE}|\s*\(\s*{_APP}\s*\))?"
_LIST_SEPARATOR = r"\s*(?:,\s*(?:and|or)\b|,|;|/|&|\band\b|\bor\b)\s*"
_AL_LIST = rf"(?<![\w.-]){_AL_ITEM}(?:{_LIST_SEPARATOR}{_AL_ITEM})*"

_ACTION_LINE_MENTIONS: Final = (
    # "Action Line C4", "WSIS Action Lines C1, C3 and C7", "action line C7 e-learning"
    re.compile(rf"\bAction[\s-]+Lines?\s*(?:No\.?\s*)?[:\-–]?\s*(?P<list>{_AL_LIST})", re.I),
    # "(C4)", "(C3, C4)", "(C7 e-health)"
    re.compile(rf"\(\s*(?P<list>{_AL_LIST})\s*\)", re.I),
    # "C7 e-learning", "C7: E-Learning", "C7.e-health", "C7 ICT applications: E-health",
    # "C7 (e-learning)"
    re.compile(rf"(?P<list>(?<![\w.-])C7(?:{_APP_AFTER_CODE}|\s*\(\s*{_APP}\s*\)))", re.I),
)
_APPLICATION_BEFORE_C7: Final = re.compile(
    # "e-learning (C7)", "e-health (Action Line C7)"
    rf"{_APP}\s*\(\s*(?:WSIS\s+)?(?:Action[\s-]+Line\s+)?C7\s*\)",
    re.I,
)
_TITLE_AFTER_ACTION_LINE = r"\bAction[\s-]+Lines?\s+(?:on|of|for|about)\s+(?:the\s+)?[\"“‘']?"
_ACTION_LINES_BY_TITLE: Final = tuple(
    # "the Action Line on Capacity Building", "Action Line on e-Health"
    (re.compile(rf"{_TITLE_AFTER_ACTION_LINE}(?:{title})\b", re.I), code)
    for title, code in (
        (r"(?:the\s+)?role\s+of\s+(?:public\s+)?governance\s+authorities", "C1"),
        (r"(?:information\s+and\s+communication\s+)?infrastructure", "C2"),
        (r"access\s+to\s+information(?:\s+and\s+knowledge)?", "C3"),
        (r"capacity[\s-]+building", "C4"),
        (r"building\s+confidence\s+and\s+security|cyber[\s-]?security", "C5"),
        (r"(?:an?\s+)?enabling\s+environment", "C6"),
        (r"ICT\s+applications|(?P<app>" + _APP + ")", "C7"),
        (r"cultural\s+diversity", "C8"),
        (r"media", "C9"),
        (r"ethical\s+dimensions?|ethics", "C10"),
        (r"international\s+and\s+regional\s+cooperation", "C11"),
    )
)
_AL_CODE_IN_LIST = re.compile(rf"{_AL}(?P<app>{_APP_AFTER_CODE}|\s*\(\s*{_APP}\s*\))?", re.I)
_APP_IN_MENTION = re.compile(_APP, re.I)

_GOAL = r"(?:1[0-7]|[1-9])"
_NOT_A_QUANTITY = (
    # SDG 4.4, 9.c and 16.10 are targets of a goal; "4.5 million" or "4 000" is not one (and
    # SDG is also the code of the Sudanese pound). Possessive: a number refused as a quantity
    # is not retried without its decimals.
    r"(?!\d|[,\s]\d{3}\b)(?:\.(?:\d{1,2}|[a-c])(?![\w.,]))?+"
    r"(?!\s*%|\s*(?:percent|per\s+cent|million|billion|thousand|hundred|years?|months?|weeks?"
    r"|days?|hours?|people|persons|participants|countries|times|USD|EUR|dollars)\b)"
)
_GOAL_ITEM = rf"{_GOAL}{_NOT_A_QUANTITY}"
_GOAL_LIST = (
    rf"{_GOAL_ITEM}(?:{_LIST_SEPARATOR}(?:SDG\s*[-#]?\s*|(?-i:Goal)\s+)?{_GOAL_ITEM})*(?!\d)"
)
_SDG_MENTIONS: Final = (
    # "SDG 4", "SDG4", "SDG-4", "SDGs 4 and 9", "SDG #16"
    re.compile(rf"\bSDGs?\s*[-#]?\s*(?P<list>{_GOAL_LIST})", re.I),
    # "Sustainable Development Goal 16", "Sustainable Development Goals (SDGs) 4 and 5"
    re.compile(
        rf"\bSustainable\s+Development\s+Goals?\s*(?:\(\s*SDGs?\s*\)\s*)?(?:No\.?\s*)?"
        rf"(?P<list>{_GOAL_LIST})",
        re.I,
    ),
    # "Goal 4", "Goals 3, 4 and 5", "Global Goal 13" — not "Millennium Development Goal 2", and
    # only with a capital G: "our goal 1 is…" is a project's own goal.
    re.compile(
        rf"(?<!Millennium Development )\b(?-i:Goals?)\s+"
        rf"(?:No\.?\s*)?(?P<list>{_GOAL_LIST})",
        re.I,
    ),
)
_GOAL_IN_LIST = re.compile(rf"(?<![\d.]){_GOAL}(?!\d)")


def _explicit_mentions(text: str) -> Iterator[tuple[str, int]]:
    """(code, position) of every explicit mention, in no particular order."""
    for pattern in _ACTION_LINE_MENTIONS:
        for mention in pattern.finditer(text):
            listed = mention["list"]
            base = mention.start("list")
            for item in _AL_CODE_IN_LIST.finditer(listed):
                code = f"C{int(item['n'])}"
                yield code, base + item.start()
                application = item["app"] and _APP_IN_MENTION.search(item["app"])
                if code == C7 and application:
                    yield _application_code(application.group()), base + item.start()
    for pattern, code in _ACTION_LINES_BY_TITLE:
        for mention in pattern.finditer(text):
            yield code, mention.start()
            if mention.groupdict().get("app"):
                yield _application_code(mention["app"]), mention.start()
    for mention in _APPLICATION_BEFORE_C7.finditer(text):
        application = _APP_IN_MENTION.match(mention.group())
        assert application is not None
        yield C7, mention.start()
        yield _application_code(application.group()), mention.start()
    for pattern in _SDG_MENTIONS:
        for mention in pattern.finditer(text):
            base = mention.start("list")
            for goal in _GOAL_IN_LIST.finditer(mention["list"]):
                yield f"SDG{int(goal.group())}", base + goal.start()


def _application_code(mention: str) -> str:
    name = re.sub(r"^e[\s-]?", "e-", mention.lower())
    return C7_APPLICATIONS[name]


# --- the cue vocabulary -------------------------------------------------------------------------


def _cues(
    strong: Iterable[str] = (), medium: Iterable[str] = (), weak: Iterable[str] = ()
) -> tuple[tuple[str, float], ...]:
    return (
        *((cue, STRONG) for cue in strong),
        *((cue, MEDIUM) for cue in medium),
        *((cue, WEAK) for cue in weak),
    )


# A cue is a phrase; a word ending in "*" matches any word it begins ("regulat*": regulation,
# regulatory), other words match themselves and their plural in -s/-es. Hyphens and case do not
# matter: "e-learning", "E learning" and "e‑Learning" are the same cue.
CUES: Final[dict[str, tuple[tuple[str, float], ...]]] = {
    "C1": _cues(
        strong=[
            "e-strateg*",
            "national ict strateg*",
            "national ict polic*",
            "national digital strateg*",
            "digital transformation strateg*",
            "ict for development polic*",
            "national ict plan",
            "ict master plan",
        ],
        medium=[
            "multi-stakeholder",
            "multistakeholder",
            "public-private partnership*",
            "digital agenda",
            "ict policy",
            "ict policies",
            "policy dialogue",
            "whole-of-government",
            "policymakers",
            "policy makers",
        ],
        weak=["government*", "stakeholder*", "ict4d", "national strateg*", "polic*"],
    ),
    "C2": _cues(
        strong=[
            "broadband",
            "connectivity",
            "fibre optic*",
            "fiber optic*",
            "internet exchange point*",
            "backbone",
            "mobile network*",
            "telecommunication infrastructure",
            "telecommunications infrastructure",
            "ict infrastructure",
            "network infrastructure",
            "universal service fund*",
            "universal access fund*",
            "last mile",
            "community network*",
            "submarine cable*",
        ],
        medium=[
            "4g",
            "5g",
            "3g",
            "satellite*",
            "wi-fi",
            "wifi",
            "hotspot*",
            "data cent*",
            "internet access",
            "spectrum",
            "base station*",
            "bandwidth",
            "telecom*",
        ],
        weak=["infrastructure", "digital divide", "mobile phone*", "hardware", "network*"],
    ),
    "C3": _cues(
        strong=[
            "access to information",
            "open data",
            "open access",
            "freedom of information",
            "public librar*",
            "digital librar*",
            "community access cent*",
            "telecent*",
            "open educational resources",
            "open source",
            "free software",
            "public access point*",
        ],
        medium=[
            "librar*",
            "archive*",
            "repositor*",
            "knowledge sharing",
            "public access",
            "accessibility",
            "persons with disabilities",
            "people with disabilities",
            "assistive technolog*",
            "information services",
            "digital content",
        ],
        weak=["information", "knowledge", "portal*", "database*", "publication*", "access"],
    ),
    "C4": _cues(
        strong=[
            "capacity building",
            "capacity development",
            "digital literacy",
            "digital skills",
            "ict skills",
            "ict literacy",
            "e-literacy",
            "train the trainer*",
            "training of trainers",
            "skills development",
            "human capacity",
            "human resources development",
            "strengthen capacit*",
            "strengthen the capacit*",
            "build capacit*",
        ],
        medium=[
            "training*",
            "trained",
            "trainee*",
            "trainer*",
            "workshop*",
            "capacities",
            "capacity",
            "curricul*",
            "upskill*",
            "reskill*",
            "coding",
            "mentor*",
            "fellowship*",
            "bootcamp*",
            "certification",
        ],
        weak=["skill*", "course*", "human resources", "participants", "expert*"],
    ),
    "C5": _cues(
        strong=[
            "cybersecurity",
            "cyber security",
            "cybercrime*",
            "cyber crime*",
            "csirt*",
            "computer emergency response",
            "computer incident response",
            "incident response",
            "child online protection",
            "online safety",
            "data protection",
            "phishing",
            "malware",
            "ransomware",
            "spam",
            "cyber threat*",
            "cyber attack*",
            "cyberattack*",
            "information security",
            "network security",
            "cyber resilience",
        ],
        medium=[
            "cert",
            "privacy",
            "encryption",
            "digital signature*",
            "electronic signature*",
            "authentication",
            "online fraud",
            "online abuse",
            "secure",
            "cyber*",
        ],
        weak=["security", "trust", "fraud", "protection", "risk*"],
    ),
    "C6": _cues(
        strong=[
            "enabling environment",
            "regulatory framework*",
            "legal framework*",
            "legal and regulatory",
            "policy and regulatory",
            "telecommunication regulat*",
            "ict regulat*",
            "regulatory authorit*",
            "internet governance",
            "consumer protection",
            "intellectual property",
            "spectrum management",
            "domain name*",
            "e-commerce law*",
            "electronic transactions act",
            "competition policy",
        ],
        medium=[
            "regulat*",
            "legislat*",
            "interoperab*",
            "licens*",
            "investment climate",
            "standardi*",
            "technical standards",
            "tariff*",
        ],
        weak=["law*", "legal", "standard*", "reform*", "taxation", "investment*"],
    ),
    "C7": _cues(
        strong=["ict applications", "digital applications"],
        medium=[
            "digital services",
            "online services",
            "e-services",
            "mobile application*",
            "mobile app",
            "mobile apps",
            "web application*",
            "online platform*",
        ],
        weak=["platform*", "apps", "software"],
    ),
    "C7.e-government": _cues(
        strong=[
            "e-government",
            "egovernment",
            "digital government",
            "e-governance",
            "online public services",
            "public e-services",
            "government portal*",
            "e-procurement",
            "electronic procurement",
            "e-participation",
            "open government",
            "digital identit*",
            "e-id",
            "electronic identit*",
            "civil registration",
            "e-voting",
            "one-stop shop*",
            "e-tax*",
        ],
        medium=[
            "public services",
            "public service delivery",
            "public administration",
            "government services",
            "public sector",
            "administrative procedures",
            "public procurement",
            "public financial management",
            "electronic systems",
            "citizen*",
        ],
        weak=["government*", "ministr*", "municipal*", "transparen*"],
    ),
    "C7.e-business": _cues(
        strong=[
            "e-business",
            "ebusiness",
            "e-commerce",
            "ecommerce",
            "electronic commerce",
            "online marketplace*",
            "mobile money",
            "digital payment*",
            "electronic payment*",
            "e-payment*",
            "fintech",
            "online shop*",
            "digital trade",
        ],
        medium=[
            "smes",
            "msmes",
            "small and medium enterprises",
            "small and medium-sized enterprises",
            "micro enterprises",
            "microenterprises",
            "entrepreneur*",
            "start-up*",
            "startups",
            "digital economy",
            "trade facilitation",
            "supply chain*",
            "online sales",
            "merchants",
        ],
        weak=["trade", "business*", "market*", "compan*", "customs", "private sector"],
    ),
    "C7.e-learning": _cues(
        strong=[
            "e-learning",
            "elearning",
            "online learning",
            "distance learning",
            "distance education",
            "online course*",
            "mooc*",
            "massive open online course*",
            "learning management system*",
            "virtual classroom*",
            "digital classroom*",
            "online training*",
            "educational technolog*",
            "edtech",
            "blended learning",
            "digital learning",
            "self-paced course*",
            "learning platform*",
        ],
        medium=[
            "school*",
            "students",
            "teachers",
            "pupils",
            "learners",
            "education*",
            "classroom*",
            "webinar*",
            "tutor*",
            "curricul*",
        ],
        weak=["universit*", "learning", "lesson*", "course*"],
    ),
    "C7.e-health": _cues(
        strong=[
            "e-health",
            "ehealth",
            "telemedicine",
            "telehealth",
            "mhealth",
            "mobile health",
            "electronic health record*",
            "electronic medical record*",
            "health information system*",
            "digital health",
            "health informatics",
            "telecare",
            "disease surveillance",
        ],
        medium=[
            "patient*",
            "hospital*",
            "clinic*",
            "health workers",
            "health care",
            "healthcare",
            "public health",
            "medical",
            "diagnos*",
            "vaccin*",
            "epidemic*",
            "pandemic*",
            "covid*",
            "nurses",
            "doctors",
            "physicians",
        ],
        weak=["health", "disease*", "well-being", "wellbeing", "medicine*"],
    ),
    "C7.e-employment": _cues(
        strong=[
            "e-employment",
            "telework*",
            "remote work*",
            "online jobs",
            "online work",
            "job portal*",
            "job matching",
            "digital jobs",
            "online employment",
            "employment services",
            "digital labour platform*",
            "digital labor platform*",
            "gig economy",
            "job seekers",
            "jobseekers",
        ],
        medium=[
            "employability",
            "youth employment",
            "labour market*",
            "labor market*",
            "job creation",
            "jobs",
            "employment",
            "unemploy*",
            "career*",
            "workforce",
            "freelanc*",
            "recruit*",
        ],
        weak=["income*", "livelihood*", "workers"],
    ),
    "C7.e-environment": _cues(
        strong=[
            "e-environment",
            "environmental monitoring",
            "early warning system*",
            "early warning",
            "disaster risk reduction",
            "disaster management",
            "emergency telecommunication*",
            "e-waste",
            "electronic waste",
            "climate change",
            "green ict",
            "energy efficien*",
            "remote sensing",
            "greenhouse gas*",
            "carbon footprint",
            "environmental data",
        ],
        medium=[
            "environment*",
            "disaster*",
            "climate",
            "emission*",
            "pollution",
            "biodiversity",
            "natural resource*",
            "renewable energy",
            "recycl*",
            "circular economy",
            "weather",
            "mercury",
            "geospatial",
            "satellite imagery",
        ],
        weak=["energy", "waste", "green", "sustainab*"],
    ),
    "C7.e-agriculture": _cues(
        strong=[
            "e-agriculture",
            "digital agriculture",
            "precision agriculture",
            "precision farming",
            "smart farming",
            "agritech",
            "agricultural extension",
            "agricultural information",
        ],
        medium=[
            "agricultur*",
            "farmer*",
            "farming",
            "farms",
            "crop*",
            "livestock",
            "fisher*",
            "irrigation",
            "harvest*",
            "smallholder*",
            "agronom*",
        ],
        weak=["rural", "food", "land"],
    ),
    "C7.e-science": _cues(
        strong=[
            "e-science",
            "escience",
            "research and education network*",
            "nren*",
            "open science",
            "scientific data",
            "research data",
            "high performance computing",
            "grid computing",
            "research infrastructure*",
            "citizen science",
            "e-infrastructure*",
            "scientific collaboration",
        ],
        medium=[
            "researchers",
            "research network*",
            "scientific",
            "science",
            "scientists",
            "laborator*",
            "research institut*",
            "scientific publication*",
        ],
        weak=["research", "universit*", "academi*", "data"],
    ),
    "C8": _cues(
        strong=[
            "cultural diversity",
            "cultural heritage",
            "linguistic diversity",
            "multilingualism",
            "multilingual",
            "local content",
            "local language*",
            "indigenous language*",
            "mother tongue*",
            "digital heritage",
            "internationalized domain name*",
            "language technolog*",
            "localis*",
            "localiz*",
        ],
        medium=[
            "indigenous",
            "cultur*",
            "heritage",
            "museum*",
            "languages",
            "translat*",
            "minority language*",
            "dialect*",
            "arts",
        ],
        weak=["language", "local", "traditional", "communit*"],
    ),
    "C9": _cues(
        strong=[
            "media",
            "journalis*",
            "community radio*",
            "broadcast*",
            "press freedom",
            "freedom of the press",
            "media literacy",
            "public service media",
            "disinformation",
            "misinformation",
            "fact-check*",
            "newsroom*",
        ],
        medium=[
            "radio*",
            "television",
            "tv",
            "newspaper*",
            "news",
            "press",
            "social media",
            "podcast*",
            "freedom of expression",
        ],
        weak=["audience*", "content"],
    ),
    "C10": _cues(
        strong=[
            "ethical dimension*",
            "ethics",
            "information ethics",
            "ethical",
            "human rights",
            "responsible ai",
            "digital rights",
            "hate speech",
            "human dignity",
        ],
        medium=[
            "rights",
            "dignity",
            "values",
            "inclusion",
            "gender mainstreaming",
            "freedom of expression",
            "privacy",
            "accountab*",
            "integrity",
            "corruption",
            "anti-corruption",
            "transparency",
        ],
        weak=["inclusive", "responsib*", "fair*", "trust"],
    ),
    "C11": _cues(
        strong=[
            "international cooperation",
            "regional cooperation",
            "south-south cooperation",
            "triangular cooperation",
            "international partnership*",
            "regional partnership*",
            "global partnership*",
            "cross-border cooperation",
            "regional initiative*",
            "intergovernmental",
            "multilateral",
            "development cooperation",
            "knowledge exchange",
            "bilateral cooperation",
            "regional integration",
        ],
        medium=[
            "cooperation",
            "co-operation",
            "collaboration",
            "partnership*",
            "partners",
            "member states",
            "across countries",
            "across regions",
            "networking",
            "donor*",
            "un agencies",
        ],
        weak=["regional", "international", "countries", "global", "joint*"],
    ),
    "SDG1": _cues(
        strong=[
            "poverty reduction",
            "poverty eradication",
            "end poverty",
            "extreme poverty",
            "social protection",
        ],
        medium=["poverty", "poor", "low-income", "financial inclusion", "basic services"],
        weak=["vulnerable", "income*"],
    ),
    "SDG2": _cues(
        strong=[
            "zero hunger",
            "food security",
            "food insecurity",
            "hunger",
            "malnutrition",
            "sustainable agriculture",
            "agricultural productivity",
        ],
        medium=["nutrition", "smallholder*", "farmer*", "agricultur*", "crop*", "livestock"],
        weak=["food", "rural"],
    ),
    "SDG3": _cues(
        strong=[
            "universal health coverage",
            "maternal mortality",
            "child mortality",
            "hiv",
            "malaria",
            "tuberculosis",
            "non-communicable disease*",
            "public health",
            "health services",
            "health systems",
            "healthcare",
            "health care",
            "telemedicine",
            "e-health",
            "mental health",
        ],
        medium=[
            "health",
            "disease*",
            "patient*",
            "hospital*",
            "vaccin*",
            "medical",
            "epidemic*",
            "pandemic*",
            "covid*",
            "clinic*",
        ],
        weak=["well-being", "wellbeing", "care"],
    ),
    "SDG4": _cues(
        strong=[
            "quality education",
            "lifelong learning",
            "inclusive education",
            "primary education",
            "secondary education",
            "higher education",
            "tertiary education",
            "vocational training",
            "technical and vocational",
            "early childhood education",
            "education system*",
        ],
        medium=[
            "education*",
            "school*",
            "students",
            "teachers",
            "learners",
            "pupils",
            "literacy",
            "digital literacy",
            "digital skills",
            "e-learning",
            "distance learning",
            "online learning",
            "universit*",
            "scholarship*",
            "classroom*",
            "curricul*",
        ],
        weak=["learning", "training", "skills", "youth"],
    ),
    "SDG5": _cues(
        strong=[
            "gender equality",
            "women's empowerment",
            "empowerment of women",
            "women and girls",
            "gender-based violence",
            "gender parity",
            "gender digital divide",
            "girls in ict",
            "women in tech*",
            "women entrepreneurs",
            "female entrepreneurs",
        ],
        medium=["gender", "women", "girls", "female", "gender mainstreaming"],
        weak=["mothers", "equal*"],
    ),
    "SDG6": _cues(
        strong=[
            "clean water",
            "drinking water",
            "safe water",
            "sanitation",
            "water management",
            "water resources",
            "wastewater",
            "water supply",
            "hygiene",
            "water quality",
        ],
        medium=["water", "groundwater", "watershed*"],
        weak=["rivers"],
    ),
    "SDG7": _cues(
        strong=[
            "renewable energy",
            "clean energy",
            "energy access",
            "access to electricity",
            "affordable energy",
            "energy efficien*",
            "solar power",
            "solar energy",
            "off-grid",
            "mini-grid*",
        ],
        medium=["energy", "electricity", "solar", "power grid*", "electrification", "wind power"],
        weak=["power"],
    ),
    "SDG8": _cues(
        strong=[
            "decent work",
            "economic growth",
            "youth employment",
            "job creation",
            "full employment",
            "productive employment",
            "entrepreneurship",
            "financial services",
        ],
        medium=[
            "employment",
            "jobs",
            "smes",
            "msmes",
            "small and medium enterprises",
            "entrepreneur*",
            "productivity",
            "tourism",
            "unemploy*",
            "economic development",
            "employability",
            "labour market*",
            "labor market*",
            "livelihood*",
        ],
        weak=["income*", "economy", "economic", "business*", "workers"],
    ),
    "SDG9": _cues(
        strong=[
            "resilient infrastructure",
            "industrialization",
            "industrialisation",
            "innovation",
            "research and development",
            "internet access",
            "broadband",
            "mobile network*",
            "ict infrastructure",
            "access to ict*",
        ],
        medium=["infrastructure", "industr*", "innovat*", "connectivity", "manufactur*"],
        weak=["technolog*"],
    ),
    "SDG10": _cues(
        strong=[
            "reduced inequalities",
            "inequalit*",
            "leave no one behind",
            "leaving no one behind",
            "no one is left behind",
            "persons with disabilities",
            "people with disabilities",
            "social inclusion",
            "marginali*",
            "migrants",
            "least developed countries",
            "landlocked developing countries",
            "small island developing states",
            "countries in special situations",
            "digital divide",
        ],
        medium=[
            "inclusion",
            "disabilit*",
            "vulnerable",
            "underserved",
            "excluded",
            "minorities",
            "refugee*",
            "developing countries",
            "ldcs",
            "lldcs",
            "sids",
            "equal opportunit*",
        ],
        weak=["inclusive", "rural", "elderly", "older persons"],
    ),
    "SDG11": _cues(
        strong=[
            "sustainable cities",
            "smart cit*",
            "urban planning",
            "public transport*",
            "affordable housing",
            "urban development",
            "slums",
            "urbani*",
        ],
        medium=[
            "cities",
            "city",
            "urban",
            "municipal*",
            "housing",
            "transport*",
            "mobility",
            "heritage",
            "local government*",
        ],
        weak=["communit*", "local"],
    ),
    "SDG12": _cues(
        strong=[
            "responsible consumption",
            "sustainable consumption",
            "sustainable production",
            "e-waste",
            "electronic waste",
            "circular economy",
            "recycl*",
            "waste management",
            "chemicals management",
            "mercury management",
            "sustainable procurement",
            "food waste",
        ],
        medium=[
            "waste",
            "mercury",
            "chemical*",
            "consumption",
            "natural resource*",
            "reuse",
            "sustainable tourism",
        ],
        weak=["resources", "products"],
    ),
    "SDG13": _cues(
        strong=[
            "climate change",
            "climate action",
            "greenhouse gas*",
            "climate resilien*",
            "climate adaptation",
            "climate mitigation",
            "carbon emission*",
            "co2 emission*",
            "early warning",
            "disaster risk reduction",
            "natural disasters",
            "global warming",
            "paris agreement",
        ],
        medium=[
            "climate",
            "emission*",
            "carbon",
            "adaptation",
            "mitigation",
            "resilience",
            "disaster*",
            "extreme weather",
            "drought*",
            "flood*",
        ],
        weak=["weather", "environment*"],
    ),
    "SDG14": _cues(
        strong=[
            "life below water",
            "marine",
            "ocean*",
            "coastal",
            "fisheries",
            "overfishing",
            "coral*",
            "sea level*",
        ],
        medium=["sea", "seas", "fish*", "aquaculture", "maritime"],
        weak=["water"],
    ),
    "SDG15": _cues(
        strong=[
            "life on land",
            "biodiversity",
            "deforestation",
            "desertification",
            "land degradation",
            "forest*",
            "wildlife",
            "terrestrial ecosystem*",
            "endangered species",
            "poaching",
            "reforestation",
        ],
        medium=["ecosystem*", "species", "conservation", "land use", "protected areas"],
        weak=["land", "soil*", "nature"],
    ),
    "SDG16": _cues(
        strong=[
            "rule of law",
            "access to justice",
            "corruption",
            "anti-corruption",
            "bribery",
            "transparent institutions",
            "accountable institutions",
            "effective institutions",
            "legal identity",
            "birth registration",
            "public access to information",
            "fundamental freedoms",
            "organized crime",
            "organised crime",
            "human trafficking",
            "illicit financial flows",
            "law enforcement",
            "violent extremism",
            "terrorism",
            "crime prevention",
        ],
        medium=[
            "justice",
            "peace",
            "peaceful",
            "violence",
            "crime*",
            "criminal*",
            "trafficking",
            "court*",
            "judicia*",
            "transparency",
            "accountability",
            "institutions",
            "human rights",
            "police",
            "post-conflict",
            "conflict*",
        ],
        weak=["law*", "legal", "rights", "governance"],
    ),
    "SDG17": _cues(
        strong=[
            "global partnership*",
            "multi-stakeholder partnership*",
            "partnerships for the goals",
            "international cooperation",
            "south-south cooperation",
            "triangular cooperation",
            "technology transfer",
            "transfer of technolog*",
            "official development assistance",
            "public-private partnership*",
            "resource mobili*",
            "statistical capacit*",
            "data and statistics",
            "means of implementation",
            "development finance",
            "debt management",
            "policy coherence",
        ],
        medium=[
            "partnership*",
            "cooperation",
            "co-operation",
            "partners",
            "donor*",
            "financing",
            "statistic*",
            "collaboration",
            "member states",
            "regional cooperation",
            "knowledge sharing",
        ],
        weak=["international", "global", "funding", "trade"],
    ),
}

NAMES_THAT_ARE_NOT_CUES: Final[tuple[str, ...]] = (
    # Names and boilerplate every contribution carries: the words in them say nothing about
    # what the organisation did ("Commission on Science…" is not e-science).
    "commission on science and technology for development",
    "economic and social council",
    "world summit on the information society",
    "information society",
    "united nations conference on trade and development",
    "united nations institute for training and research",
    "united nations office on drugs and crime",
    "united nations educational scientific and cultural organization",
    "united nations development programme",
    "united nations environment programme",
    "international telecommunication union",
    "world health organization",
    "food and agriculture organization",
    "international labour organization",
    "millennium development goal*",
    "sustainable development goal*",
    "agenda for sustainable development",
    "global goals",
    "secretary-general",
    "action line*",
    "wsis forum",
    "wsis prizes",
)


# --- inference ----------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class _Cue:
    phrase: str
    code: str | None  # None: a name that only hides the cues inside it
    weight: float
    words: tuple[str, ...]


@dataclass(frozen=True)
class _Match:
    cue: _Cue
    first: int  # index of the first word
    last: int  # index of the last word
    position: int  # offset in the text


def _cue_words(phrase: str) -> tuple[str, ...]:
    words = tuple(part.lower() for part in re.findall(r"[^\W_]+\*?", phrase))
    if not words:
        raise ValueError(f"the cue {phrase!r} has no word")
    return words


def _build_cues() -> tuple[dict[str, list[_Cue]], dict[str, list[_Cue]]]:
    """Cues indexed by their first word: exact words, and prefixes (words ending in "*")."""
    exact: dict[str, list[_Cue]] = {}
    prefixed: dict[str, list[_Cue]] = {}
    every = [
        _Cue(phrase, code, weight, _cue_words(phrase))
        for code, cues in CUES.items()
        for phrase, weight in cues
    ] + [_Cue(name, None, 0.0, _cue_words(name)) for name in NAMES_THAT_ARE_NOT_CUES]
    for cue in every:
        first = cue.words[0]
        if first.endswith("*"):
            prefixed.setdefault(first[:-1], []).append(cue)
        else:
            exact.setdefault(first, []).append(cue)
    return exact, prefixed


_EXACT_CUES, _PREFIXED_CUES = _build_cues()
_PREFIX_LENGTHS: Final = sorted({len(prefix) for prefix in _PREFIXED_CUES})


def _word_matches(expected: str, word: str) -> bool:
    if expected.endswith("*"):
        return word.startswith(expected[:-1])
    return word in (expected, f"{expected}s", f"{expected}es")


def _singulars(word: str) -> tuple[str, ...]:
    forms = [word]
    if word.endswith("s"):
        forms.append(word[:-1])
    if word.endswith("es"):
        forms.append(word[:-2])
    return tuple(forms)


def _cues_starting(word: str) -> tuple[_Cue, ...]:
    exact = [cue for form in _singulars(word) for cue in _EXACT_CUES.get(form, ())]
    prefixed = [
        cue
        for length in _PREFIX_LENGTHS
        if length <= len(word)
        for cue in _PREFIXED_CUES.get(word[:length], ())
    ]
    return (*exact, *prefixed)


def _cue_matches(text: str) -> list[_Match]:
    words = [found.group().lower() for found in _WORD.finditer(text)]
    positions = [found.start() for found in _WORD.finditer(text)]
    starting: dict[str, tuple[_Cue, ...]] = {}  # a text repeats its words: look each up once
    matches: list[_Match] = []
    for index, word in enumerate(words):
        candidates = starting.get(word)
        if candidates is None:
            candidates = starting[word] = _cues_starting(word)
        for cue in candidates:
            last = index + len(cue.words) - 1
            if last < len(words) and all(
                _word_matches(expected, words[index + offset])
                for offset, expected in enumerate(cue.words[1:], start=1)
            ):
                matches.append(_Match(cue, index, last, positions[index]))
    return _without_nested(matches)


def _without_nested(matches: list[_Match]) -> list[_Match]:
    """Drop a match lying inside a longer match of another cue ("environment" in "enabling
    environment" is not a cue of its own), and of cues of one code on the same words keep the
    strongest ("cybersecurity" is not also "cyber*")."""
    reach_from: dict[int, int] = {}  # first word -> furthest last word of a match starting there
    for match in matches:
        reach_from[match.first] = max(reach_from.get(match.first, -1), match.last)
    reach_before: dict[int, int] = {}  # first word -> furthest last word of earlier matches
    furthest = -1
    for first in sorted(reach_from):
        reach_before[first] = furthest
        furthest = max(furthest, reach_from[first])
    strongest: dict[tuple[str, int, int], _Match] = {}
    for match in matches:
        code = match.cue.code
        nested = reach_before[match.first] >= match.last or reach_from[match.first] > match.last
        if code is None or nested:
            continue
        key = (code, match.first, match.last)
        if key not in strongest or strongest[key].cue.weight < match.cue.weight:
            strongest[key] = match
    return sorted(strongest.values(), key=lambda m: (m.first, m.last, m.cue.phrase))


def _confidence(weights: Iterable[float]) -> float:
    """Each distinct cue is independent evidence: 1 − Π(1 − w), capped below certainty."""
    doubt = 1.0
    for weight in weights:
        doubt *= 1.0 - weight
    return round(min(1.0 - doubt, MAX_INFERRED_CONFIDENCE), 2)


@dataclass(frozen=True)
class _Inference:
    code: str
    confidence: float
    evidence: str
    cues: tuple[str, ...]


def _infer(text: str, sentences: _SentenceIndex) -> dict[str, _Inference]:
    by_code: dict[str, list[_Match]] = {}
    for match in _cue_matches(text):
        assert match.cue.code is not None
        by_code.setdefault(match.cue.code, []).append(match)
    inferred: dict[str, _Inference] = {}
    for code, matches in by_code.items():
        distinct: dict[str, float] = {}
        for match in matches:
            distinct[match.cue.phrase] = match.cue.weight
        confidence = _confidence(distinct.values())
        if confidence < MIN_INFERRED_CONFIDENCE:
            continue
        inferred[code] = _Inference(
            code=code,
            confidence=confidence,
            evidence=_best_evidence(matches, sentences),
            cues=tuple(sorted(distinct, key=lambda phrase: (-distinct[phrase], phrase)))[
                :CUES_KEPT
            ],
        )
    return inferred


def _best_evidence(matches: Sequence[_Match], sentences: _SentenceIndex) -> str:
    """The sentence whose distinct cues weigh most (the first of equals)."""
    weight_by_sentence: dict[int, dict[str, float]] = {}
    first_position: dict[int, int] = {}
    for match in matches:
        sentence = sentences.at(match.position)
        weight_by_sentence.setdefault(sentence, {})[match.cue.phrase] = match.cue.weight
        first_position.setdefault(sentence, match.position)
    best = min(weight_by_sentence, key=lambda s: (-sum(weight_by_sentence[s].values()), s))
    return sentences.evidence(first_position[best])


# --- the tagger ---------------------------------------------------------------------------------


def suggest_tags(text: str, *, title: str = "") -> list[Tag]:
    """The tags of a contribution: explicit mentions (in code order), then inferred codes (most
    confident first). The title counts as the first line of the text."""
    full_text = f"{title.strip()}\n\n{text}" if title.strip() else text
    sentences = _SentenceIndex(full_text)

    explicit: dict[str, int] = {}
    for code, position in _explicit_mentions(full_text):
        if code not in explicit or position < explicit[code]:
            explicit[code] = position
    for code in sorted(explicit, key=code_order):
        for implied in implied_codes(code):
            explicit.setdefault(implied, explicit[code])

    inferred = {code: i for code, i in _infer(full_text, sentences).items() if code not in explicit}
    for application in [code for code in inferred if implied_codes(code)]:
        for implied in implied_codes(application):
            own = inferred.get(implied)
            if implied not in explicit and (
                own is None or own.confidence < inferred[application].confidence
            ):
                inferred[implied] = inferred[application]

    tags = [
        Tag(
            kind=kind_of(code),
            code=code,
            source="explicit",
            confidence=EXPLICIT_CONFIDENCE,
            evidence=sentences.evidence(explicit[code]),
        )
        for code in sorted(explicit, key=code_order)
    ]
    tags.extend(
        Tag(
            kind=kind_of(code),
            code=code,
            source="inferred",
            confidence=inference.confidence,
            evidence=inference.evidence,
            cues=list(inference.cues),
        )
        for code, inference in sorted(
            inferred.items(), key=lambda item: (-item[1].confidence, code_order(item[0]))
        )
    )
    return tags
