"""Graders of the exercises: one pytest marker per exercise (ex4_2), checked against minit5."""
