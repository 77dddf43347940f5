"""Pure helpdesk rules: statuses, transitions, case numbers, dates, timers. No Textual, no Peewee."""
