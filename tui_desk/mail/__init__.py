"""Mail: outbox messages out by SMTP (deliver), customers' mail in (intake), and how both are built and read."""
