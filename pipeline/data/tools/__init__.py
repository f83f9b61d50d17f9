"""Round trips with labelling tools: suggestions out to Argilla, Label Studio or a spreadsheet, and their exports back.

`formats` names the formats, detects an export's and dispatches; `suggestions` reads
`behaviours labelled suggest` output; `argilla`, `label_studio` and `sheets` write
each tool's file and read its export; `annotations` turns what the annotators of one
text said into one labelled row (the majority per behaviour).
"""
