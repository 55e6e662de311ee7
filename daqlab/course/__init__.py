"""Instructor pipeline over nbgrader: generate, release, collect, grade, feedback, export."""
