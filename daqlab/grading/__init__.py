"""Grading oracles: checks with points and messages, computed from the grading plant's truth.

Hidden tests in practical assignments call :mod:`daqlab.grading.assignments`; those functions read the
trainee's variables, ask the grading plant (through its control API) what the station really is and
what it really served, and return the points earned (nbgrader partial credit).
"""

from daqlab.grading.checks import Check, Report
from daqlab.grading.context import GradingContext, context

__all__ = ["Check", "GradingContext", "Report", "context"]
