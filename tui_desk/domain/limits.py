"""What a file brought in from elsewhere may hold: every limit of ``import``, in one table.

A sheet, a JSON export, a workbook or an archive may come from another machine, damaged or made to
hurt. Each is checked against these limits before it is read (a zip: from its directory, before a
member is unpacked), and one over any of them is refused in one line, with nothing stored.
The code reads them as ``limits.NAME`` at the moment it checks, so a test may lower one.
"""

from __future__ import annotations

MB = 1024 * 1024
GB = 1024 * MB

# Text read whole into memory. `export --format json --log` writes about 4 KB per ticket, nested four
# deep (list, ticket, log, entry): room for 100,000 tickets; a CSV of 100,000 seed rows is ~25 MB.
MAX_SHEET_BYTES = 512 * MB  # a CSV sheet (issue 14)
MAX_JSON_BYTES = 512 * MB  # a JSON export (issue 13)
MAX_JSON_DEPTH = 16  # lists and objects inside each other (issue 13)

# Any zip (a workbook, an archive): a member of 16 MB or more packed tighter than 100:1 is a zip bomb,
# not data (ordinary sheets pack 5-20:1, very repetitive ones ~60:1, table rows ~10:1); smaller
# members may pack as tightly as they like.
MAX_PACK_RATIO = 100
PACK_RATIO_FROM = 16 * MB
ZIP_DIRECTORY_BYTES_PER_MEMBER = 1024  # a directory larger than members x this is not an honest one

# Workbooks (XLSX, XLSM, ODS; issue 13: a 5 MB XLSX unpacked to a 2 GB sheet ran past 90 s and 520 MB).
MAX_WORKBOOK_UNPACKED = 512 * MB
MAX_WORKBOOK_MEMBERS = 10_000  # an XLSX holds tens; each sheet, image or style is one

# Archives (`export --archive`): the manifest, one member per table and one per attachment content.
MAX_ARCHIVE_UNPACKED = 64 * GB  # everything together
MAX_ARCHIVE_MEMBERS = 1_000_000
MAX_ARCHIVE_MANIFEST = 64 * MB  # the manifest is read whole (its seal checkpoints: one per 1,000 entries)
MAX_ARCHIVE_ROW = 256 * MB  # one table row (a log entry with its body) is read whole
MAX_ARCHIVE_BLOB = 4096 * MB  # one attachment: the largest `[attachments] max_mb` allows
