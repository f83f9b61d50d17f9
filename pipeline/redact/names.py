"""Finding people's names in free text: spaCy's PERSON entities, a list of first names, and cues.

The rules and their limits are described in `pipeline/redact/patterns.py`'s docstring
(the `NAME` kind).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from spacy.lang.en.stop_words import STOP_WORDS
from spacy.tokens import Doc

TITLES = frozenset(
    "dr doctor mr mrs ms miss mx prof professor sister matron nurse sr sir dame lady lord rev revd reverend "
    "father fr pastor imam rabbi cllr councillor uncle auntie aunty aunt".split()
)
# Words that follow a title or role but are not a name ("Nurse Practitioner", "Sister on ward 5").
ROLE_WORDS = frozenset(
    "practitioner specialist associate consultant manager lead leader team ward unit bank staff nurse sister "
    "matron director deputy assistant advanced clinical senior junior charge night day community district "
    "in-charge educator coordinator co-ordinator apprentice student trainee registrar officer partner "
    "guardian champion coachee appraisee appraiser reviewer colleague patient client mentor mentee supervisor "
    "preceptor preceptee buddy head".split()
)
# Words that are also first names. Capitalised mid-sentence they are names; at the
# start of a sentence only when the next word makes them the subject ("Will has").
WORD_NAMES = frozenset(
    "will hope faith grace rose mark joy bill dawn sue pat jack holly amber ruby frank ray robin penny daisy "
    "heather ivy lily iris hazel jade crystal violet rob bob drew gene miles chase art don guy rich sunny "
    "chance carol patience precious destiny angel hunter mercy honor honour harmony blossom poppy olive "
    "ginger jasmine sandy rusty norm max nick sky star dolly rowan ash glen dale cliff wade "
    "victor sterling pearl opal goldie marina".split()
)
CALENDAR_NAMES = frozenset("may june april august summer autumn winter".split())  # names too, but mostly dates
_AMBIGUOUS = WORD_NAMES | CALENDAR_NAMES
FIRST_NAMES_FILE = Path(__file__).resolve().parent / "lexicons" / "first_names.txt"


def _fold(word: str) -> str:
    """Lower case without accents or a possessive: "Siobhán's" → "siobhan"."""
    word = re.sub(r"['’]s$", "", word)
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c)).lower()


def load_first_names(path: Path = FIRST_NAMES_FILE) -> frozenset[str]:
    """The committed list of common first names (folded), less the words that are also names (Will, May...)."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(_fold(line) for line in lines if line and not line.startswith("#")) - _AMBIGUOUS


FIRST_NAMES = load_first_names()
# Capitalised words that are never a person here, whatever the model says: roles and jobs,
# departments and places in a hospital, bodies, days and months, and verbs that open a request
# ("Email me"). A name span made only of these is dropped ("Physio", "Ward Sister", "Trust").
NOT_PERSON_WORDS = frozenset(
    "physio physios physiotherapist physiotherapists physiotherapy ot ots slt salt matron matrons sister sisters "
    "ward wards trust trusts nhs band bands consultant consultants bank manager managers nurse nurses doctor "
    "doctors dr hca hcas registrar registrars surgeon surgeons anaesthetist midwife midwives porter porters "
    "pharmacist pharmacists pharmacy radiographer radiology phlebotomy phlebotomist dietitian podiatrist "
    "podiatry therapist therapists therapy paramedic paramedics receptionist reception estates facilities "
    "theatres theatre recovery outpatients paediatrics maternity midwifery oncology haematology cardiology "
    "respiratory renal stroke pathology medicine surgery icu itu hdu amu sau ed a&e gp gps locum locums agency "
    "admin secretary clerk housekeeper domestic domestics chaplain chaplaincy volunteer volunteers student "
    "students preceptee preceptor apprentice trainee fy1 fy2 sho cqc nmc gmc hcpc rcn unison datix esr hr "
    "it ict occupational health division directorate board exec executive chief head lead team staff service "
    "department unit clinic office site hospital hospice community district mess canteen switchboard "
    "monday tuesday wednesday thursday friday saturday sunday mondays tuesdays wednesdays thursdays fridays "
    "saturdays sundays january february march september october november december christmas easter eid "
    "diwali covid email e-mail phone ring call text ask contact please thanks thank lounge bay".split()
)
# Nouns that, straight after a name, make it the name of a thing: "Mary Seacole programme", "Elizabeth ward".
NAMED_THINGS = frozenset(
    "ward wards unit programme program award awards building centre center wing house lecture suite fund "
    "foundation hospital hospice school road street lane avenue close drive court college university clinic "
    "practice surgery scholarship fellowship trust room lounge bay".split()
)
_IDIOMS = re.compile(r"\brob(?:s|bing|bed)?\s+Peter\s+to\s+pay\s+Paul\b", re.IGNORECASE)
_DATE_WORDS = frozenset(
    "in on since until till by from of during over through this last next early late mid end all every "
    "the that each before after between and or to".split()
)
_SUBJECT_VERBS = frozenset(
    "is was has had does did says said tells told asks asked wants wanted needs needed feels felt thinks "
    "thought seems seemed gets got gives gave makes made takes took leads led brings brought handles "
    "handled keeps kept knows knew works worked holds held helps helped shows showed runs ran manages "
    "managed listens listened supports supported deserves deserved could would should can might must will "
    "tends checks covers teaches trains organises organizes ensures tries stays speaks answers phoned "
    "covered taught trained organised organized ensured tried stayed spoke answered".split()
)
_MODALS = frozenset("could would should can might must will".split())
# Verbs whose subject is a person: "Lewis laughed", "Hamza felt", "Marta talked", "Nadia would like".
_HUMAN_VERBS = frozenset(
    "said says told tells asked asks talked talks laughed laughs cried smiled described describes felt feels "
    "thinks thought wants wanted worries worried believes believed noticed notices reflected reflects explained "
    "explains mentioned mentions admitted admits apologised apologises apologized agreed agrees disclosed "
    "discloses decided decides realised realises realized hopes hoped loves loved hates hated likes liked "
    "prefers preferred requested requests wrote writes emailed phoned rang joined retired resigned "
    "championed cares cared volunteered listens listened deserves deserved".split()
)
_WOULD = frozenset("like love prefer rather".split())
_NAME_WORD = r"[^\W\d_]+(?:[-'’](?!s\b)[^\W\d_]+)*"  # Ashworth-Clarke, O'Donnell; not the 's of Ngozi's
_NAME_WORDS = re.compile(rf"(?<![\w'’-]){_NAME_WORD}")
_HE_SHE = re.compile(r"\b(?:she|he|her|his|him|herself|himself)\b", re.IGNORECASE)
_CONTRACTION = re.compile(r"['’](?:d|ll|ve|re|m|t)$")  # I'd, I'll, Don't
_DETERMINERS = frozenset("the a an this that these those our my their his her its your every each no".split())
_NOUN_ENDINGS = ("ing", "tion", "sion", "ment", "ness", "ity", "ship", "ance", "ence", "ism", "age", "ure", "ery",
                 "ogy", "ics", "ist", "ers", "ors")
_NOT_PEOPLE = frozenset("DATE TIME MONEY PERCENT QUANTITY CARDINAL ORDINAL NORP LANGUAGE LAW EVENT".split())
# A role often followed by the person's name: "my manager Sarah", "our ward clerk Tracey", "Line manager (Rose ...)".
_ROLE_CUE = re.compile(
    r"\b(?P<det>(?:my|our|the|her|his|their|your)\s+)?"
    r"(?:(?:line|ward|team|deputy|clinical|practice|unit|service|site|bed|night|day|charge|senior|new|old|former|"
    r"previous|current|named|ward\s+clerk|staff)\s+)*"
    r"(?:manager|supervisor|mentor|coach|coachee|colleague|buddy|preceptor|preceptee|lead|leader|boss|educator|"
    r"matron|sister|nurse|consultant|registrar|director|deputy|sponsor|mate|friend|partner|husband|wife|son|"
    r"daughter|mum|dad|appraiser|appraisee|clerk|receptionist|porter|hca|rep|guardian|physio|physiotherapist|"
    r"therapist|pharmacist|midwife|doctor|gp|ot)\b"
    r"\s*[,(]?\s*(?=\S)",
    re.IGNORECASE,
)
_LABEL_CUE = re.compile(
    r"\b(?:appraisee|appraiser|reviewer|reviewed\s+by|coachee|coach|(?:line\s+)?manager|name|signed|completed\s+by|"
    r"lead|sponsor|mentor|supervisor|confirmer|contact|action|actions|owner)\s*[:\-–]\s*(?=\S)",
    re.IGNORECASE,
)
_THANKS_CUE = re.compile(
    r"\b(?:thanks\s+to|thank\s+you\s+to|thank\s+you|thanks|cheers|well\s+done|shout\s*out\s+to|dear|hi|hello|"
    r"kind\s+regards|regards|best\s+wishes|many\s+thanks|love|sorry|called|named|esp|especially|particularly)"
    r"\b\.?[,!:]?\s+(?=\S)",
    re.IGNORECASE,
)
_ONLY_CAPITALISED_AFTER = ("love", "called", "named")  # "I love nights", "called back": no lower-case names
# Lower-case words that follow a role or a thank-you but are not names ("my manager said", "thanks guys").
_NOT_NAMES = STOP_WORDS | frozenset(
    "guys team lots folks everybody all x xx xxx hun babe mate colleagues sir madam said says told tells asked "
    "asks wants needs feels thinks seems gets got gave gives makes made takes took came comes went goes left "
    "knows knew listens tries keeps kept felt thought put let sent spoke rang called emailed wrote leads runs "
    "ran sits stays works helps doesn didn isn wasn hasn won can't meeting meetings role post position job "
    "review office rota days shifts time support new good great lovely fantastic brilliant amazing awful "
    "terrible useless nice kind fair busy off away sick ward feel nights weekends mornings evenings lates earlies "
    "when now today here there".split()
)
# What may follow a lower-case name: "my manager sarah is", "thanks jo for everything", "sorry bev".
_AFTER_LOWER_NAME = frozenset(
    "and x xx on in at from for who always never really just also still hes shes left".split()
)
_WORD = re.compile(r"[^\W\d_]\.|[^\W\d_]+(?:['’\-][^\W\d_]+)*")  # J., Anne-Marie, O'Donnell, Ó, Súilleabháin
_SIGN_OFF_LINE = re.compile(
    r"\n[ \t]*(?P<dash>[-–—][ \t]*)?"
    r"(?P<name>(?:[^\W\d_][\w'’\-.]*[ \t]+){0,2}[^\W\d_][\w'’\-]*)[ \t]*(?P<kisses>x+)?[ \t]*$"
)
_CLOSINGS = frozenset("thanks regards cheers best wishes love kind many sincerely faithfully dear hi hello".split())
_SENTENCE_END = ".!?:;\n•"


_LOOK_BEHIND = 200  # characters: the word before a span is read from this window, never from the whole text


def _just_before(text: str, start: int) -> str:
    """The text just before `start`: patterns anchored at its end then cost the same however long the text is
    (searched over `text[:start]` they made a note of 100,000 characters take minutes)."""
    return text[max(0, start - _LOOK_BEHIND) : start]


def _is_capitalised(word: str) -> bool:
    """Starts with a capital and is not an acronym (HCA, ICS, AMU)."""
    return word[:1].isupper() and not (word.isupper() and 1 < len(word) <= 4)


def _sentence_initial(text: str, start: int) -> bool:
    """True when only spaces, quotes, brackets or bullets stand between `start` and the start of text or a sentence."""
    i = start - 1
    while i >= 0 and (text[i].isspace() or text[i] in "\"'“”‘’([-–*"):
        if text[i] == "\n":
            return True
        i -= 1
    return i < 0 or text[i] in _SENTENCE_END


def _next_word(text: str, end: int) -> str:
    match = re.match(r"\s*(['’]s\b|[^\W\d_]+|[,&])", text[end:])
    return match[1] if match else ""


def _word_is_a_name(text: str, start: int, end: int) -> bool:
    """Whether a word that is also a first name (Will, Hope, May...) is used as a name here.

    Capitalised in mid-sentence it is a name; a month or season only when no date
    word or number is next to it ("in May", "2 May"). At the start of a sentence it
    is a name only when what follows makes it the subject ("Will has", "Hope and
    Faith", "Grace's"); "Hope this helps", "Will be", "Frank conversations" are words.
    """
    word = text[start:end]
    if not _is_capitalised(word) or word.isupper():
        return False
    lower = word.lower()
    following = _next_word(text, end)
    if not _sentence_initial(text, start):
        if lower not in CALENDAR_NAMES:
            return True
        before = re.search(r"([^\W\d_]+|\d(?:st|nd|rd|th)?)\W*$", _just_before(text, start))
        after_date_word = before is not None and (before[1][0].isdigit() or before[1].lower() in _DATE_WORDS)
        return not after_date_word and not re.match(r"\s*\d", text[end:])
    if following in ("'s", "’s"):
        return True
    if _of_a_department(text, end):
        return True  # "Carol on reception", "Bill from estates"
    if following.lower() == "and":
        return _is_capitalised(_next_word(text, end + text[end:].lower().index("and") + 3))
    verbs = _SUBJECT_VERBS | _HUMAN_VERBS
    if lower in CALENDAR_NAMES:
        verbs = verbs - _MODALS - {"is", "was"}
    return following in verbs


_DEPARTMENTS = frozenset(
    "reception estates pharmacy radiology phlebotomy theatres recovery outpatients maternity switchboard "
    "nights days admin payroll hr it domestics facilities security portering catering".split()
)


def _of_a_department(text: str, end: int) -> bool:
    """Whether a word is followed by where a person works: "... on reception", "... from estates", "... in pharmacy"."""
    match = re.match(r"[ \t]+(?:on|from|in|at)[ \t]+([^\W\d_]+)\b", text[end:])
    return match is not None and match[1].lower() in _DEPARTMENTS


def _ends_a_lower_name(text: str, end: int) -> bool:
    """Whether what follows a lower-case word lets it be a name: the end, punctuation, a verb or a small word."""
    rest = text[end:].lstrip(" \t")
    if not rest or rest[0] in ".,;:!?)\n":
        return True
    following = _next_word(text, end).lower()
    return following in _SUBJECT_VERBS or following in _HUMAN_VERBS or following in _AFTER_LOWER_NAME


def _name_words(text: str, at: int, allow_lower: bool) -> tuple[int, int] | None:
    """The span of the one to three name words starting at `at`, if they look like a name.

    After a title or cue a capitalised word that is also a word (Will, Hope) is a
    name; a month or season still needs `_word_is_a_name`. With `allow_lower`, one
    lower-case word that is not a common word is a name too ("my manager sarah").
    """
    end, words, position = at, 0, at
    while words < 3:
        match = _WORD.match(text, position)
        if not match:
            break
        word = match[0]
        lower = word.lower()
        if _is_capitalised(word):
            if lower in ROLE_WORDS or lower in STOP_WORDS and lower not in _AMBIGUOUS:
                break
            if words == 0 and lower in CALENDAR_NAMES and not _word_is_a_name(text, match.start(), match.end()):
                break
        elif not (allow_lower and words == 0 and word.islower() and word.isalpha() and len(word) > 1
                  and lower not in _NOT_NAMES and lower not in _AMBIGUOUS and _ends_a_lower_name(text, match.end())):
            break
        end, words = match.end(), words + 1
        gap = re.match(r"[ \t]+", text[end:])
        if not _is_capitalised(word) or not gap:
            break  # a lower-case name is taken one word at a time; names do not cross lines
        position = end + gap.end()
    return (at, end) if words else None


def _cue_names(text: str) -> Iterator[tuple[int, int]]:
    """Names after titles ("Dr Okafor"), form labels ("Appraisee: ..."), roles ("my manager Sarah") and thanks."""
    for match in re.finditer(r"\b([A-Z][a-z]{1,9})\b\.?[ \t]+(?=[^\W\d_])", text):
        if match[1].lower() in TITLES:
            span = _name_words(text, match.end(), allow_lower=False)
            if span:
                yield span
    for cue in (_LABEL_CUE, _ROLE_CUE, _THANKS_CUE):
        for match in cue.finditer(text):
            bare_role = cue is _ROLE_CUE and not match["det"]
            if bare_role and not _sentence_initial(text, match.start()):
                continue
            title = re.match(r"([^\W\d_]+)\.?\s+", text[match.end() :])
            if title and title[1].lower() in TITLES:
                continue  # the title rule has it
            allow_lower = not (cue is _LABEL_CUE or bare_role or match[0].lower().startswith(_ONLY_CAPITALISED_AFTER))
            span = _name_words(text, match.end(), allow_lower)
            while span:
                yield span
                more = re.match(r"[ \t]*(?:,|&|\band\b)[ \t]*", text[span[1] :])  # "thanks to Kaz, Shaz and Ifeoma"
                span = _name_words(text, span[1] + more.end(), allow_lower) if more else None


def _sign_off(text: str) -> tuple[int, int] | None:
    """A last line that is a name signing off: "...\\nKath x", "...\\n- Priya"."""
    match = _SIGN_OFF_LINE.search(text)
    if not match:
        return None
    words = match["name"].split()
    kisses = match["kisses"] or re.fullmatch("x+", words[-1])
    if re.fullmatch("x+", words[-1]):
        words.pop()
    if not (match["dash"] or kisses) or not words:
        return None
    if all(_is_capitalised(w) and w.lower() not in STOP_WORDS | _CLOSINGS for w in words):
        start = match.start("name")
        return start, text.index(words[-1], start) + len(words[-1])
    return None


def _trim_entity(text: str, start: int, end: int) -> tuple[int, int] | None:
    """An NER PERSON span without titles, roles, possessive 's and edge punctuation; None if nothing is left."""
    words = list(re.finditer(r"\S+", text[start:end]))
    while words and (words[0][0].lower().rstrip(".:,") in TITLES | ROLE_WORDS | _CLOSINGS or words[0][0].islower()):
        words.pop(0)  # "Sister Afolabi", "my Rose", "rob Peter"
    while words and any(c.isdigit() for c in words[-1][0]):
        words.pop()  # "Lucy 3"
    if not words:
        return None
    start, end = start + words[0].start(), start + words[-1].end()
    possessive = re.search(r"['’]s$", text[start:end])
    end -= len(possessive[0]) if possessive else 0
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    span = text[start:end]
    if not span or any(c.isdigit() or c == "@" for c in span) or (span.isupper() and len(span) <= 4):
        return None
    return start, end


def _looks_like_a_name(text: str, start: int, end: int) -> bool:
    """A capitalised word that could be a name: not a little word, acronym, role, common noun, or after "the"."""
    word = text[start:end]
    lower = word.lower()
    before = re.search(r"([^\W\d_]+)\W*$", _just_before(text, start))
    return (
        _is_capitalised(word) and len(word) > 1 and lower not in STOP_WORDS and lower not in _AMBIGUOUS
        and lower not in TITLES and lower not in ROLE_WORDS and lower not in _CLOSINGS and lower not in NOT_PERSON_WORDS
        and not lower.endswith(_NOUN_ENDINGS) and not _CONTRACTION.search(lower)
        and not (before and before[1].lower() in _DETERMINERS)
    )


def _person_context_names(text: str, doc: Doc) -> Iterator[tuple[int, int]]:
    """Capitalised words that the context makes a person, whatever label the NER model gave them.

    - one to three name-like words straight before a verb that takes a person as
      subject ("Lewis laughed", "Nadia would like"), unless it is a heading
      ("Contract agreed:");
    - name-like words opening a sentence as its subject ("Priya has had...") in a
      text that goes on to say she, he, her or his;
    - a single word opening a sentence that the model took for an organisation,
      as the subject of a verb ("Adebola is wrestling", "Ngozi's goal"): a small
      model often labels unfamiliar first names ORG.
    """
    not_people = {(e.start_char, e.end_char) for e in doc.ents if e.label_ in _NOT_PEOPLE}
    organisations = {(e.start_char, e.end_char) for e in doc.ents if e.label_ == "ORG" and len(e) == 1}
    words = [m.span() for m in _NAME_WORDS.finditer(text)]
    i = 0
    while i < len(words):
        if not _looks_like_a_name(text, *words[i]):
            i += 1
            continue
        j = i + 1  # first name, middle name, surname: up to three name-like words a space apart
        while j < len(words) and j - i < 3 and text[words[j - 1][1] : words[j][0]] in (" ", "\t") and (
            _looks_like_a_name(text, *words[j])
        ):
            j += 1
        start, end, single, i = words[i][0], words[j - 1][1], j - i == 1, j
        if (start, end) in not_people:
            continue
        following = re.match(r"\s*(['’]s\b|[^\W\d_]+)(?:\s+([^\W\d_]+))?(\s*[:\-–])?", text[end:])
        if not following:
            continue
        verb, second, heading = following[1], (following[2] or "").lower(), following[3]
        initial = _sentence_initial(text, start)
        person_verb = verb in _HUMAN_VERBS and not (heading and not second) or verb == "would" and second in _WOULD
        subject_then_pronoun = initial and verb in _SUBJECT_VERBS and _HE_SHE.search(text, end) is not None
        organisation_as_subject = (
            initial and single and (start, end) in organisations
            and (verb in _SUBJECT_VERBS or verb in ("'s", "’s") or verb.islower() and verb.endswith("s"))
        )
        if person_verb or subject_then_pronoun or organisation_as_subject:
            yield start, end


def _coordinated(text: str, spans: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Name-like words joined to a found name by "and", "&" or a comma: "Oluwaseun and Precious"."""
    found, todo = set(spans), list(spans)
    while todo:
        start, end = todo.pop()
        before = re.search(r"(?<![\w'’-])([^\W\d_]+)[ \t]*(?:,|&|\band)[ \t]*$", _just_before(text, start))
        after = re.match(r"[ \t]*(?:(,)|&|and\b)[ \t]*([^\W\d_]+)(?=[ \t]*(?:,|&|and\b))?", text[end:])
        candidates = []
        if before:
            candidates.append(before.span(1))
        if after and not (after[1] and not re.match(r"[ \t]*(?:,|&|and\b)", text[end + after.end(2) :])):
            candidates.append((end + after.start(2), end + after.end(2)))  # "Bankole, Head of Nursing" is no list
        for span in candidates:
            if span not in found and _looks_like_a_name(text, *span):
                found.add(span)
                todo.append(span)
    return found


def _model_names(text: str, doc: Doc) -> set[tuple[int, int]]:
    """spaCy's PERSON entities, trimmed of titles and roles; words that are also names are left to `_word_names`."""
    model = {t for t in (_trim_entity(text, e.start_char, e.end_char) for e in doc.ents if e.label_ == "PERSON") if t}
    return {(s, e) for s, e in model if text[s:e].lower() not in _AMBIGUOUS}


def _word_names(text: str) -> set[tuple[int, int]]:
    """Words that are also names (Will, Hope, May...) where capitalisation and the next word make them names."""
    return {
        m.span() for m in re.finditer(r"\b[^\W\d_]+\b", text)
        if m[0].lower() in _AMBIGUOUS and _word_is_a_name(text, m.start(), m.end())
    }


def _surname_end(text: str, end: int) -> int:
    """Where a name that ends at `end` really ends: up to two capitalised surname words after it ("Ní Bhriain")."""
    for _ in range(2):
        match = re.match(rf"[ \t]({_NAME_WORD})", text[end:])
        if not match:
            break
        word = match[1].lower()
        if not _is_capitalised(match[1]) or word in STOP_WORDS | TITLES | ROLE_WORDS | NOT_PERSON_WORDS | NAMED_THINGS:
            break
        end += match.end()
    return end


def _listed_names(text: str) -> set[tuple[int, int]]:
    """Capitalised words in the first-name list (with the surname after them): "Derek checks", "with Kayode Balogun"."""
    spans = set()
    for match in _NAME_WORDS.finditer(text):
        if _is_capitalised(match[0]) and _fold(match[0]) in FIRST_NAMES:
            spans.add((match.start(), _surname_end(text, match.end())))
    return spans


_ACTION_LABEL = re.compile(
    r"\b(?:actions?|homework|agreed(?:\s+that)?|next\s+steps?|plan|objectives?|goals?|to\s+do)\b\s*[:\-–]?[ \t]*"
    rf"(?P<name>{_NAME_WORD}(?:[ \t]{_NAME_WORD})?)[ \t]+(?:to|will|would)[ \t]+[a-z]",
    re.IGNORECASE,
)


def _action_names(text: str) -> set[tuple[int, int]]:
    """The person an action is given to in a note: "Homework: Tendai to notice...", "Agreed Tobi will lead..."."""
    spans = set()
    for match in _ACTION_LABEL.finditer(text):
        words = list(_NAME_WORDS.finditer(text, match.start("name"), match.end("name")))
        if words and all(_looks_like_a_name(text, *w.span()) or _fold(w[0]) in FIRST_NAMES for w in words):
            spans.add((words[0].start(), words[-1].end()))
    return spans


def _not_a_person(text: str, start: int, end: int) -> bool:
    """Guards: a span that is only role, place or calendar words ("Physio", "Ward Sister"), the name of a thing
    ("Mary Seacole programme", "Queen Elizabeth"), or part of an idiom ("rob Peter to pay Paul")."""
    words = [_fold(w) for w in _WORD.findall(text[start:end])]
    if not words or all(w in NOT_PERSON_WORDS | TITLES | ROLE_WORDS for w in words):
        return True
    after = re.match(r"[ \t]+([^\W\d_]+)", text[end:])
    before = re.search(r"([^\W\d_]+)\.?[ \t]+$", _just_before(text, start))
    if after and after[1].lower() in NAMED_THINGS:
        return True
    if before and before[1].lower() in ("st", "saint", "queen", "king", "prince", "princess", "royal"):
        return True
    return any(m.start() <= start and end <= m.end() for m in _IDIOMS.finditer(text))


def find_names(text: str, doc: Doc) -> list[tuple[int, int]]:
    """Every name in `text`: the model's, the cues', and every other mention of what they found, less the guards."""
    spans = _model_names(text, doc) | _word_names(text) | _listed_names(text) | _action_names(text)
    spans.update(_cue_names(text))
    spans.update(_person_context_names(text, doc))
    sign_off = _sign_off(text)
    if sign_off:
        spans.add(sign_off)
    people = {span for span in spans if not _not_a_person(text, *span)}
    return [span for span in _other_mentions(text, _coordinated(text, people)) if not _not_a_person(text, *span)]


def _other_mentions(text: str, spans: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """Every mention of a name found once: "Sarah Whitfield ... Sarah" (not for words that are also names)."""
    words = {
        w for s, e in spans for w in _WORD.findall(text[s:e])
        if _is_capitalised(w) and len(w) > 2 and w.lower() not in _AMBIGUOUS | STOP_WORDS | TITLES
    }
    for word in words:
        for match in re.finditer(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text):
            spans.add(match.span())
    return sorted(spans)
