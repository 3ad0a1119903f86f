"""The bad-input corpus: generated cases over every public ``lift3d`` entry point, each with its expected outcome.

Nothing here is a committed binary: every input file is written by the case's builder when the case runs.
``python -m tests.badinput.corpus --summary`` prints the counts per kind; ``--write DIR`` materialises the corpus.
"""
