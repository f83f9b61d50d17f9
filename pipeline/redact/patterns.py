"""Identifiers that are numbers or addresses, and what all kinds share: `KINDS`, `Found`, placeholders.

Six kinds, each replaced by its placeholder (`[NAME]`, `[EMAIL]`, ...):

- `EMAIL`: addresses, any case.
- `STAFF_ID`: staff, employee, payroll, assignment, ESR and personnel numbers, found
  only after such a word (`DEFAULT_STAFF_ID_PATTERNS`; configurable), since a bare
  number says nothing about what it is.
- `NHS_NUMBER`: ten digits, run together or 3-3-4 with spaces or dashes, whose last
  digit is the Modulus 11 check digit of the first nine. Ten digits that fail the
  check are not an NHS number and are left alone.
- `PHONE`: UK numbers: 0 or +44 / 0044 (with an optional "(0)"), then 9 or 10 digits
  beginning 1, 2, 3 or 7 (landlines, non-geographic 03 numbers, mobiles), with
  spaces, dashes or brackets between the digits.
- `POSTCODE`: full UK postcodes (outward and inward code), any case, with or
  without the space.
- `NAME` (`pipeline/redact/names.py`): spaCy's PERSON entities (only the `ner` component runs; in
  `en_core_web_sm` it has its own token vectors), plus one rule a cue, for what a
  small NER model misses in survey answers:
  - a committed list of common UK first names (`pipeline/redact/lexicons/first_names.txt`,
    accents ignored), capitalised anywhere, with the surname after it;
  - a name after a title (Dr, Mrs, Sister, Matron...), a form label ("Appraisee:"),
    a role ("my manager Sarah", "my physio aoife", also in lower case), thanks or
    "esp", an action in a note ("Homework: Tendai to...", "Agreed Tobi will..."),
    and in sign-offs;
  - a capitalised word before a verb whose subject is a person ("Lewis laughed");
    a sentence's capitalised subject in a text that goes on to say she or he; a
    first name the model took for an organisation, as a sentence's subject;
  - names that are also words (Will, Hope, Grace...) decided by capitalisation and
    the next word ("Will has", "Carol on reception", not "Hope this helps");
  - names listed with a found name ("Oluwaseun and Precious"), and every other
    mention of a name found.
  Guards then drop spans that are only role, department or calendar words ("Physio",
  "Ward Sister", "Trust", "Email me"), the name of a thing ("Mary Seacole programme",
  "Elizabeth ward", "Queen Elizabeth") and idioms ("rob Peter to pay Paul").
  What the rules cannot see: a lower-case name with no cue, an unfamiliar name not
  in the list opening a sentence with no pronoun after it, two capitalised words
  that may be a name or a department ("Human Resources").

Kinds are found in the order above and a span that overlaps one found earlier is
dropped, so an NHS number is never also a phone number. Titles stay outside a
name's span ("Dr [NAME]"): they tell a reader a role, not who.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

KINDS = ("EMAIL", "STAFF_ID", "NHS_NUMBER", "PHONE", "POSTCODE", "NAME")  # also the order of precedence

# The number itself is the group `id`; the word before it says that it is one.
# "staff", "employee" and "personnel" need a following number/no/id/ref word
# ("2,500 staff 40 beds" is not an id); payroll, ESR and assignment do not.
_ID = r"(?P<id>[A-Z]{0,4}-?\d{5,10}(?:[-/]\d{1,2})?)(?![\w-])"
_ID_WORD = r"(?:number|no\b\.?|num\b\.?|id|ref(?:erence)?|#)"
_ID_LINK = r"\s*(?:(?:is|was)\b|[:#=])?\s*"
DEFAULT_STAFF_ID_PATTERNS = (
    rf"\b(?:staff|employee|personnel|pay)\s*{_ID_WORD}{_ID_LINK}{_ID}",
    rf"\b(?:payroll|ESR(?:\s+assignment)?|assignment)(?:\s*{_ID_WORD})?{_ID_LINK}{_ID}",
)


@dataclass(frozen=True)
class Found:
    """One identifier found in a text: its kind (one of `KINDS`) and character offsets."""

    kind: str
    start: int
    end: int


def placeholder(kind: str) -> str:
    """The text that replaces an identifier of this kind."""
    return f"[{kind}]"




_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
_NHS = re.compile(r"(?<![\w-])(\d{3})([ -]?)(\d{3})\2(\d{4})(?![\w-])")
_PHONE = re.compile(
    r"(?<![\w+])(?:\+44\s?(?:\(0\)\s?)?|0044\s?|\(?0)"  # +44, +44 (0), 0044, 0, (0
    r"[1237](?:(?:\)\s?|[ -])?\d){8,9}(?![\w-])"  # then 9-10 digits, a separator between any two
)
_POSTCODE = re.compile(
    r"(?<![\w-])(?:[A-PR-UWYZ](?:\d[A-HJKPSTUW]|[A-HK-Y]\d[ABEHMNPRV-Y]|[A-HK-Y]\d{1,2}|\d{1,2})"
    r"|GIR) ?(?:\d[ABD-HJLNP-UW-Z]{2})(?![\w-])",
    re.IGNORECASE,
)
_ORDINAL = re.compile(r"(?:1st|2nd|3rd|[04-9]th)")  # "bay A1 2nd floor" is not in M1 2ND


def nhs_number_is_valid(number: str) -> bool:
    """True when the ten digits of `number` (spaces and dashes ignored) pass the NHS Modulus 11 check."""
    digits = re.sub(r"[ -]", "", number)
    if len(digits) != 10 or not digits.isdigit():
        return False
    check = 11 - sum(int(d) * (10 - i) for i, d in enumerate(digits[:9])) % 11
    return check != 10 and check % 11 == int(digits[9])


def _uk_phone(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if candidate.startswith(("+44", "0044")):
        digits = digits[4:] if candidate.startswith("0044") else digits[2:]
        digits = digits if digits.startswith("0") else "0" + digits
    return len(digits) in (10, 11) and digits[1] in "1237" and (len(digits) == 11 or digits[1] == "1")


def find_numbers(text: str, kinds: Iterable[str], staff_ids: list[re.Pattern]) -> Iterator[Found]:
    """Every e-mail, staff id, NHS number, phone number and postcode in `text`, kind by kind."""
    kinds = set(kinds)
    if "EMAIL" in kinds:
        yield from (Found("EMAIL", m.start(), m.end()) for m in _EMAIL.finditer(text))
    if "STAFF_ID" in kinds:
        for pattern in staff_ids:
            group = "id" if "id" in pattern.groupindex else 0
            yield from (Found("STAFF_ID", m.start(group), m.end(group)) for m in pattern.finditer(text))
    if "NHS_NUMBER" in kinds:
        yield from (Found("NHS_NUMBER", m.start(), m.end()) for m in _NHS.finditer(text) if nhs_number_is_valid(m[0]))
    if "PHONE" in kinds:
        for m in _PHONE.finditer(text):
            start = m.start() + (m[0].startswith("(") and ")" not in m[0])  # "(0161 ..." without its ")"
            if _uk_phone(m[0]):
                yield Found("PHONE", start, m.end())
    if "POSTCODE" in kinds:
        for m in _POSTCODE.finditer(text):
            inward = m[0][-3:]
            if not (inward.islower() and _ORDINAL.fullmatch(inward)):
                yield Found("POSTCODE", m.start(), m.end())
