"""Data and figures behind the Voila results dashboards.

- :mod:`daqlab.dashboards.data`: :func:`load_course` reads a graded course (gradebook, grading status,
  per-item and per-check results, roster) into four pandas frames; :func:`only_student` is the trainee view.
- :mod:`daqlab.dashboards.analysis`: item analysis (difficulty p, discrimination D, point-biserial r_pb,
  distractors), mastery per knowledge area, the most failed practical checks, the weighted ranking.
- :mod:`daqlab.dashboards.figures`: matplotlib figures (score distribution, mastery heat map, item map,
  ranking bar), returned as :class:`matplotlib.figure.Figure` without touching pyplot's state.
"""

from daqlab.dashboards.analysis import failed_checks, item_analysis, mastery, ranking
from daqlab.dashboards.data import CourseData, load_course, only_student

__all__ = ["CourseData", "load_course", "only_student", "item_analysis", "mastery", "failed_checks", "ranking"]
