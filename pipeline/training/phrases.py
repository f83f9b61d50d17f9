"""Words and phrases a batch uses more than a reference corpus: weighted log-odds with an informative Dirichlet prior.

Monroe, Colaresi and Quinn (2008), "Fightin' Words", section 3.5: for each word or two-word
phrase w, the log-odds of w in the batch minus that in the reference, each smoothed by a
prior of the counts of w in both corpora together, divided by its estimated standard
deviation, is a z-score; common words need a large difference to score high and rare ones
cannot score high by chance.

Only phrases that at least `min_documents` different texts of the batch use are ever
counted (so no one person's name or turn of phrase is shown), texts are redacted first,
and the redactor's placeholders (`[NAME]`, `[EMAIL]`...) are never part of a phrase.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")
BREAK = "zzplaceholderzz"  # stands where a placeholder was; any phrase holding it is dropped
WORDS = r"(?u)\b[^\W\d_][^\W\d_'’]+\b"  # two or more letters: no numbers, which can identify people
Z_90 = 1.645  # one-sided: over-represented at the project's 90% level


def _without_placeholders(texts: list[str]) -> list[str]:
    return [PLACEHOLDER.sub(f" {BREAK} ", text) for text in texts]


def _keep(phrase: str) -> bool:
    words = phrase.split()
    return BREAK not in words and not all(word in ENGLISH_STOP_WORDS for word in words)


def over_represented(
    batch: list[str],
    reference: list[str],
    redact: Callable[[list[str]], list[str]],
    min_documents: int,
    limit: int,
) -> list[dict]:
    """The batch's phrases most over-represented against `reference`, z above 1.645, highest first:
    `{phrase, z, documents}` (documents: texts of the batch using it, at least `min_documents`)."""
    if len(batch) < min_documents or not reference:
        return []
    vectorizer = CountVectorizer(
        lowercase=True, token_pattern=WORDS, ngram_range=(1, 2), min_df=min_documents
    )
    batch = _without_placeholders(redact(batch))
    reference = _without_placeholders(reference)
    try:
        batch_counts = vectorizer.fit_transform(batch)
    except ValueError:  # no phrase is used by enough texts
        return []
    keep = np.array([_keep(p) for p in vectorizer.get_feature_names_out()])
    if not keep.any():
        return []
    reference_counts = vectorizer.transform(reference)
    y_batch = np.asarray(batch_counts.sum(axis=0)).ravel().astype(float)
    y_reference = np.asarray(reference_counts.sum(axis=0)).ravel().astype(float)
    documents = np.asarray((batch_counts > 0).sum(axis=0)).ravel()
    analyse = vectorizer.build_analyzer()  # totals over every phrase, shown or not
    n_batch = float(sum(len(analyse(text)) for text in batch))
    n_reference = float(sum(len(analyse(text)) for text in reference))
    # the informative prior: each phrase's share of both corpora together, as strong as the batch itself
    n_prior = n_batch
    prior = n_prior * (y_batch + y_reference) / (n_batch + n_reference)
    with np.errstate(divide="ignore", invalid="ignore"):  # a phrase that is every word of both corpora: no z
        log_odds_batch = np.log(y_batch + prior) - np.log(n_batch + n_prior - y_batch - prior)
        log_odds_reference = np.log(y_reference + prior) - np.log(n_reference + n_prior - y_reference - prior)
        z = (log_odds_batch - log_odds_reference) / np.sqrt(1.0 / (y_batch + prior) + 1.0 / (y_reference + prior))
    names = vectorizer.get_feature_names_out()
    order = [i for i in np.argsort(-z, kind="stable") if keep[i] and z[i] > Z_90][:limit]
    return [{"phrase": str(names[i]), "z": round(float(z[i]), 2), "documents": int(documents[i])} for i in order]
