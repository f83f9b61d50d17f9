"""The board report of scored responses: the summary, its tables, the HTML page and the Excel workbook."""
