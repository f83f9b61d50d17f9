"""CI installs requirements/lock.txt, not pyproject.toml's ranges (issue 14, supply chain).

Every dependency pyproject.toml names, runtime and dev extra, must be pinned to one version in
the lock, that version must still satisfy pyproject's range, every pin must carry a hash, and
torch must be the CPU build. `make lock` regenerates the file; these tests need no network.
"""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

PROJECT = Path(__file__).resolve().parents[2]
LOCK = PROJECT / "requirements" / "lock.txt"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)\s*\\?$")


def lock_entries(text: str) -> dict[str, tuple[Version, list[str]]]:
    """Each pinned name (canonical) with its version and the hashes on its continuation lines."""
    entries: dict[str, tuple[Version, list[str]]] = {}
    name = None
    for line in text.splitlines():
        pinned = PIN.match(line)
        if pinned:
            name = canonicalize_name(pinned.group(1))
            assert name not in entries, f"{name} is pinned twice in the lock"
            entries[name] = (Version(pinned.group(2)), [])
        elif line.strip().startswith("--hash=") and name is not None:
            entries[name][1].append(line.strip().removesuffix("\\").strip())
        elif line.strip() and not line.lstrip().startswith("#"):
            raise AssertionError(f"a lock line that is neither a pin, a hash nor a comment: {line!r}")
    return entries


def declared_requirements() -> list[Requirement]:
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project.get("optional-dependencies", {})
    return [Requirement(spec) for spec in project["dependencies"] + extras.get("dev", [])]


LOCKED = lock_entries(LOCK.read_text(encoding="utf-8"))


@pytest.mark.parametrize("requirement", declared_requirements(), ids=str)
def test_every_declared_dependency_is_pinned_in_the_lock_within_its_range(requirement):
    name = canonicalize_name(requirement.name)
    assert name in LOCKED, f"{requirement.name} is in pyproject.toml but not in the lock: run `make lock`"
    version, _ = LOCKED[name]
    assert requirement.specifier.contains(version, prereleases=True), (
        f"the lock pins {name}=={version}, outside pyproject's {requirement.specifier}: run `make lock`"
    )


def test_every_pin_carries_a_hash():
    unhashed = [name for name, (_, hashes) in LOCKED.items() if not hashes]
    assert not unhashed
    assert all(re.fullmatch(r"--hash=sha256:[0-9a-f]{64}", h) for _, hashes in LOCKED.values() for h in hashes)


def test_torch_is_the_cpu_build():
    version, _ = LOCKED["torch"]
    assert version.local == "cpu", f"torch=={version} is not the CPU build: pip would pull the multi-GB CUDA one"
    assert not [name for name in LOCKED if name.startswith("nvidia-")]
