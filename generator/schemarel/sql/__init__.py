"""The relational vocabulary: column type kinds, CHECK rules, type spellings per dialect, SQLAlchemy metadata.

May import: the core modules (errors, ir, naming, text, support) only.
"""
