"""nbgrader configuration of the DAQ Lab course. The repository root is the course root."""

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "daqlab"
c.CourseDirectory.root = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."

# A cell that runs longer than this is interrupted; the rest of the notebook is still graded.
c.Execute.timeout = 60
# Kill kernels at once: a graceful shutdown stalls ~3.5 s in one kernel out of 10-20 (see stack.md).
c.Execute.shutdown_kernel = "immediate"

# What a released solution region becomes. No `raise NotImplementedError()`: a trainee's answer cells
# must run as they are (the theory paper's answer template sits above this stub).
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE · 在此作答"}

# Feedback pages: nbgrader's own preprocessors, then DAQ Lab's table style (Bootstrap leaves table cells without
# padding; daqlab/course/feedback_style.py).
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import GetGrades  # noqa: E402

from daqlab.course.feedback_style import FeedbackStyle  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, FeedbackStyle]
