"""The mails, pages and printed guide, per language: templates/<lang>/<command>/<outcome>.txt|.html."""
