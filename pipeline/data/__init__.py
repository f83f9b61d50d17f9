"""The labelled data: rows and their checks, additions, the fixed test split, counts, the dataset export."""
