"""Test helpers shared by many test files: a tiny labelled set (four phrasings per behaviour and
texts with none), writing it as a labelled CSV, and the parameters of the stand-in encoder."""

from __future__ import annotations

import csv
from pathlib import Path

from pipeline.config import EncoderParams, Params, SplitParams, TextParams, TrainParams
from pipeline.data.rows import COLUMNS, LabelledRow

# Four distinctive phrasings per behaviour: enough for a bag-of-words stand-in to learn.
TINY_EXAMPLES = {
    "authenticity": [
        "She admits her own mistakes openly in the huddle.",
        "He is honest and genuine and lives his values.",
        "Always candid with us about what she stands for.",
        "Owned up honestly when she got the budget wrong.",
    ],
    "mindset": [
        "He asks for feedback and is curious about other views.",
        "Curious and open minded, never defensive when challenged.",
        "She reflects on feedback and stays curious.",
        "Open to hearing views that differ from his own.",
    ],
    "resilience_courage": [
        "She spoke up to the board about unsafe staffing despite the risk.",
        "Brave enough to challenge the consultant about safety.",
        "Stayed calm and steady during the major incident.",
        "Took a calculated risk and spoke up when others stayed silent.",
    ],
    "relationships_advocacy": [
        "Knows every porter and cleaner by name and builds relationships.",
        "Built strong relationships with the GP practices and council.",
        "He advocates for patients and champions his staff.",
        "Networks with partners and builds relationships at every level.",
    ],
    "collaboration_cocreation": [
        "Designed the new pathway together with patients and carers.",
        "Co-produced the service redesign with the community groups.",
        "Worked jointly across agencies to agree shared aims together.",
        "Brought social care and nursing together to design it jointly.",
    ],
    "trust": [
        "He explains the reasons behind every rota decision.",
        "Nobody ever explained why the ward was closing.",
        "She explains why decisions are made, even unpopular ones.",
        "Never explained the reasons for the changes to us.",
    ],
    "community_holistic": [
        "Thinks about the whole population and the neighbourhood first.",
        "Considers the wider community and the local population.",
        "Focuses on the population health of the whole borough.",
        "Puts the local community and population at the centre.",
    ],
    "vision_shared_direction": [
        "Gave us a clear picture of where the service is heading.",
        "Nobody knows where the service is heading or what the goals are.",
        "Sets common goals and a clear direction for the team.",
        "Shared a clear direction and common goals for next year.",
    ],
    "system_influence": [
        "Brokered an agreement between the hospital, council and ICS.",
        "Represents the service at the ICS system board.",
        "Unblocked the discharge pathway between organisations across the ICS.",
        "Shaped regional policy through the ICS system board.",
    ],
    "lead_enable_others": [
        "She delegates real decisions and coaches her staff to develop.",
        "Supported me to apply for training and develop my skills.",
        "He micromanages and never lets staff develop or decide.",
        "Coaches the team and lets them develop and make decisions.",
    ],
    "ownership_accountability": [
        "Takes responsibility when things go wrong and follows up.",
        "Passes the buck and blames others when things go wrong.",
        "Holds everyone to account for the agreed actions and follows up.",
        "Takes personal responsibility and follows up every action.",
    ],
    "delivery": [
        "Turned the plan into action with clear steps and deadlines.",
        "Endless meetings and the plan never turns into action.",
        "Prioritises well and gets things done with clear steps.",
        "Delivered the project on time with clear steps and deadlines.",
    ],
    "doing_things_differently": [
        "Piloted a new way of running the clinic and tried new ideas.",
        "Shuts down new ideas and says we always do it this way.",
        "Encourages the team to try creative new ideas and pilots.",
        "Tried a new creative approach and piloted new ideas.",
    ],
}
NEGATIVE_POLARITY = {
    "Nobody ever explained why the ward was closing.",
    "Never explained the reasons for the changes to us.",
    "Nobody knows where the service is heading or what the goals are.",
    "He micromanages and never lets staff develop or decide.",
    "Passes the buck and blames others when things go wrong.",
    "Endless meetings and the plan never turns into action.",
    "Shuts down new ideas and says we always do it this way.",
}
TINY_NONE = [
    "The car parking is terrible.",
    "Pay is too low for band 5.",
    "n/a",
    "The Trust moved my ward to another site.",
    "IT system keeps crashing on nights.",
    "Leaving to relocate closer to family.",
    "no comment",
    "The canteen closes too early.",
    "Retiring after thirty years.",
    "Rota was published late again.",
    "The pension scheme changed.",
    "Lockers are broken.",
]


def tiny_rows() -> list[LabelledRow]:
    rows, n = [], 0
    for behaviour, texts in TINY_EXAMPLES.items():
        for text in texts:
            n += 1
            polarity = "-" if text in NEGATIVE_POLARITY else "+"
            rows.append(LabelledRow(f"t-{n:03d}", text, (behaviour,), (polarity,), "appraisal_note", "authored:tiny", "tiny.csv", n + 1))
    for text in TINY_NONE:
        n += 1
        rows.append(LabelledRow(f"t-{n:03d}", text, (), (), "exit_survey", "authored:tiny", "tiny.csv", n + 1))
    return rows


def write_labelled_csv(path: Path, rows: list[LabelledRow]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for r in rows:
            writer.writerow([r.id, r.text, ";".join(r.labels), ";".join(r.polarity), r.register, r.source])
    return path


def tiny_params() -> Params:
    return Params(
        encoder=EncoderParams(backend="hashing", model="", dim=512),
        text=TextParams(sentences="sentencizer"),
        split=SplitParams(test_fraction=0.25, seed=1),
        train=TrainParams(C=10.0, class_weight="balanced", cv_folds=3, seed=1),
    )
