"""environment.yml (conda) and pyproject.toml (pip) list the same runtime stack."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"pymodbus[serial]": "pymodbus"}


def split(req: str) -> tuple[str, str]:
    m = re.match(r"^([A-Za-z0-9_.\-\[\]]+)\s*(.*)$", req.strip())
    return m.group(1).lower(), m.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject_dependencies():
    deps = dict(split(d) for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    conda = dict(split(d) for d in env["dependencies"] if isinstance(d, str))
    for name, spec in deps.items():
        cname = CONDA_NAMES.get(name, name)
        assert cname in conda, f"{cname} missing from environment.yml"
        assert conda[cname] == spec, f"{cname}: pyproject says {spec!r}, environment.yml says {conda[cname]!r}"
    assert "pyserial" in conda, "pymodbus[serial] needs pyserial on conda-forge"
    assert conda["python"] == "=3.11"
    pip = next(d for d in env["dependencies"] if isinstance(d, dict))["pip"]
    assert "-e ." in pip


def test_pymodbus_is_pinned_to_one_minor_and_imported_in_one_module():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "pymodbus[serial]>=3.16.1,<3.17" in deps
    importers = [p.relative_to(ROOT).as_posix() for p in (ROOT / "daqlab").rglob("*.py")
                 if re.search(r"^\s*(from|import) pymodbus", p.read_text(), re.M)]
    assert importers == ["daqlab/modbus.py"]
