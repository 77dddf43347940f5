"""Pure helpdesk rules: statuses, transitions, what "overdue" means, case numbers, dates, timers, the texts
of system log entries. No Textual, no Peewee."""
