"""Legal documents (执法文书): sandboxed Jinja2 templates rendered to PDF (and DOCX), issued from a
case with a gapless number, stored with their SHA-256 and a verification code.

`rendering` turns a template and a context into HTML, PDF and DOCX; `service` issues, lists and reads
documents within the agency tree; `models` holds the rows. See docs/documents.md.
"""
