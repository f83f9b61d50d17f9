"""Files in and out: atomic writes and tables (`files`), survey exports read in chunks (`exports`)."""
