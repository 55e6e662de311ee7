"""Theory exam: bilingual item bank, blueprints, per-trainee papers, answer normalisation, scoring.

Keys and explanations live only in the instructor-side bank (source/exam/bank/, found through the
DAQLAB_EXAM_BANK environment variable at grading time); the package ships stems and options only.
"""
