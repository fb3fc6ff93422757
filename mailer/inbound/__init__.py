"""Where mail and clicks come in: the SMTP edge, the IMAP mailbox, the one-click unsubscribe endpoint; all end in the pipeline."""
