"""Analysis of transfer gains against difficulty: tables, statistics, prediction, reports.

Importing this package never imports torch or transformers.
"""
