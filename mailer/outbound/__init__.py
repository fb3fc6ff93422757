"""Where mail goes out: the outbox into a Maildir or through the relay, DKIM signing, bulk fan-out, digests sent from memory."""
