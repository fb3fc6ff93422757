"""Mail in and out: the SMTP edge, the IMAP mailbox, the outbox and its relay, DKIM, bulk fan-out, the web endpoint."""
