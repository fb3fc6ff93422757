"""Mail as text: reading it (parse, quotes, language, guards, sender checks) and writing it (compose, MIME, plus addresses)."""
