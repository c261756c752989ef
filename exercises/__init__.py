"""Graded exercises: stubs a reader fills in (`exNN_topic.py`), and their graders (`graders/`).

Grade one with `make grade EX=4.2` (or `minit5 grade 4.2`), a chapter with `minit5 grade 4`,
everything with `minit5 grade`. The reference solutions are the library itself; `reference.py`
says which library function answers which exercise.
"""
