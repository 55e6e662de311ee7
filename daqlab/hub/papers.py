"""Publish each trainee's theory paper, drawn with the instructor's salt, where only that trainee reads it.

A paper's draw is deterministic (items, their order and their options' order follow from a seed), so that
the grader can rebuild the paper a trainee answered. Unsalted, anyone could compute anyone's paper, and
their own before the exam. On the hub the seed includes the instructor's ``paper_salt`` (the hub's secrets,
staff-only): the instructor publishes ``<results>/<student>/papers/<assignment>.json`` for every trainee
(the trainee's own results folder: theirs to read, nobody else's) with the text of each item (a contest
item's text is nowhere else a trainee can read: the trainee-side bank copy holds the practice pool only), the
notebook shows that file
(:func:`daqlab.exam.notebook.my_paper`), and the grading service draws the same paper with the same salt.

    daqlab hub publish-papers theory-contest      # after releasing it; `publish-results` also does it
"""

from __future__ import annotations

import json
from pathlib import Path

from daqlab.atomic import write_atomic
from daqlab.exam.bank import item_text, load_bank
from daqlab.exam.blueprint import all_blueprints, for_assignment
from daqlab.exam.paper import draw, to_json


def theory_assignments(course) -> list[str]:
    """The released theory assignments of a course (release/<name> with a blueprint)."""
    release = Path(course) / "release"
    known = all_blueprints()
    return sorted(p.name for p in release.iterdir() if p.is_dir() and p.name in known) if release.is_dir() else []


def publish(results, students, assignments, salt: str, bank_dir, course_id: str = "daqlab") -> int:
    """Write every student's paper of every assignment (drawn from the instructor's bank in ``bank_dir``,
    each item's text in the file, never its key); returns the number of files written."""
    if not salt:
        raise ValueError("no paper salt: papers would be computable by anyone (the hub's secrets hold one)")
    texts = {iid: item_text(it) for iid, it in load_bank(bank_dir).items()}
    n = 0
    for a in assignments:
        bp = for_assignment(a)
        for sid in students:
            paper = draw(texts, bp, course=course_id, assignment=a, student=sid, salt=salt)
            write_atomic(Path(results) / sid / "papers" / f"{a}.json", json.dumps(to_json(paper, texts),
                                                                                   ensure_ascii=False) + "\n")
            n += 1
    return n
