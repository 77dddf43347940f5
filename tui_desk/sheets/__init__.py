"""The spreadsheet bridge: read case-log sheets (CSV, XLSX, our JSON) into tickets, and export tickets back out."""
