"""Label Studio: suggestions as JSON tasks with pre-annotations and a labelling config, and its JSON export back.

A task is `{"data": {"text", "row_id", "register", "source", "reason"}, "predictions":
[{"model_version", "result": [...]}]}`; each result is a `choices` region from a
control of the config to `text`: `behaviours` (the behaviour ids, or `none`) and,
per behaviour, `<behaviour>_polarity` (`strength` or `gap`, shown only when the
behaviour is chosen). The config is written beside the tasks, with `.xml` for `.json`.

The export (Export → JSON) is the list of tasks, each with `annotations`: one per
annotator, `result` as above, `was_cancelled` (or, in older exports, `skipped`) when
skipped. A task with no annotation that was not cancelled is counted as not yet labelled.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from pipeline.data.rows import Problem
from pipeline.data.tools.annotations import NO_BEHAVIOUR, SIGN_NAMES, Annotation, ToolRows, annotated_row
from pipeline.data.tools.suggestions import Suggestion
from pipeline.taxonomy import Taxonomy

BEHAVIOURS_CONTROL = "behaviours"
MODEL_VERSION = "behaviours-labelled-suggest"
SIGNS = {name: sign for sign, name in SIGN_NAMES.items()}  # the choice shown → '+' or '-'


def polarity_control(behaviour_id: str) -> str:
    return f"{behaviour_id}_polarity"


def labelling_config(taxonomy: Taxonomy) -> str:
    """The labelling config (XML): the text, the behaviours, and strength or gap for each behaviour chosen."""
    choices = "\n".join(
        f"    <Choice value={quoteattr(b.id)} hint={quoteattr(b.name + ': ' + b.description)}/>"
        for b in taxonomy.behaviours
    )
    polarity = "\n".join(
        f'  <View visibleWhen="choice-selected" whenTagName="{BEHAVIOURS_CONTROL}" whenChoiceValue={quoteattr(b.id)}>\n'
        f"    <Header value={quoteattr(b.name + ': strength or gap?')} size=\"6\"/>\n"
        f"    <Choices name={quoteattr(polarity_control(b.id))} toName=\"text\" "
        'choice="single-radio" showInline="true">\n'
        + "".join(f"      <Choice value={quoteattr(name)}/>\n" for name in SIGNS)
        + "    </Choices>\n  </View>"
        for b in taxonomy.behaviours
    )
    return (
        "<View>\n"
        '  <Text name="text" value="$text"/>\n'
        '  <Header value="Behaviours in this text (or No behaviour)" size="5"/>\n'
        f'  <Choices name="{BEHAVIOURS_CONTROL}" toName="text" choice="multiple" required="true" showInline="true">\n'
        f"{choices}\n"
        f'    <Choice value="{NO_BEHAVIOUR}" hint="No behaviour in this text"/>\n'
        "  </Choices>\n"
        f"{polarity}\n"
        "</View>\n"
    )


def _choices(control: str, values: list[str]) -> dict:
    return {"from_name": control, "to_name": "text", "type": "choices", "value": {"choices": values}}


def task(suggestion: Suggestion) -> dict:
    """A task to import, the model's labels as a prediction (pre-annotation)."""
    row = suggestion.row
    result = [_choices(BEHAVIOURS_CONTROL, list(row.labels) or [NO_BEHAVIOUR])]
    result += [_choices(polarity_control(b), [SIGN_NAMES[sign]]) for b, sign in zip(row.labels, row.polarity)]
    data = {
        "text": row.text, "row_id": row.id, "register": row.register, "source": row.source, "reason": suggestion.reason
    }
    return {"data": data, "predictions": [{"model_version": MODEL_VERSION, "result": result}]}


def _annotation(result: list) -> Annotation:
    behaviours: tuple[str, ...] = ()
    signs = {}
    for region in result:
        control, chosen = region["from_name"], region["value"]["choices"]
        if control == BEHAVIOURS_CONTROL:
            behaviours = tuple(chosen)
        elif control.endswith("_polarity") and chosen:
            signs[control.removesuffix("_polarity")] = SIGNS.get(chosen[0], chosen[0])
    return Annotation(behaviours, signs)


def read_tasks(tasks: list, name: str, taxonomy: Taxonomy) -> ToolRows:
    """Labelled rows from exported tasks (a task's place is its position, from 1)."""
    rows, problems, unlabelled = [], [], 0
    for number, item in enumerate(tasks, start=1):
        try:
            data = item["data"]
            row_id, text = str(data.get("row_id") or ""), str(data["text"])
            kept = [a for a in item.get("annotations") or [] if not (a.get("was_cancelled") or a.get("skipped"))]
            annotations = [_annotation(a["result"]) for a in kept]
        except (AttributeError, KeyError, TypeError, IndexError):
            problems.append(Problem(name, number, f"record {number}: not a Label Studio task (data.text, annotations)"))
            continue
        if not annotations:
            unlabelled += 1
            continue
        register, source = str(data.get("register", "")), str(data.get("source", ""))
        row, row_problems = annotated_row(
            row_id, text, register, source, annotations, name, number, taxonomy, f"record {number}: "
        )
        problems += row_problems
        if row is not None:
            rows.append(row)
    return ToolRows(rows, problems, unlabelled)
