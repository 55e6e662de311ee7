import os
import shutil

import pytest


def need_tool(name: str) -> str:
    """Path of a Debian tool the suite relies on; fail in CI (make test installs it), skip elsewhere."""
    path = shutil.which(name)
    if path is None:
        msg = f"{name} is not installed (make test installs it with apt-get)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return path
