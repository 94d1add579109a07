"""The hash-pinned locks that `make install` installs agree with the direct pins they were resolved from.

requirements.in and requirements-dev.in name what the project uses, pinned by hand; `make lock` resolves
them into requirements.lock and requirements-dev.lock, the whole tree with every file's sha256, and
`make install` installs nothing else (`pip install --require-hashes`).  A pin changed or added in an
.in file without `make lock` would leave CI and every fresh machine installing the old tree unseen.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RELOCK = "requirements*.in and the lock disagree: run `make lock` and commit both"


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def direct_pins(path: Path) -> dict[str, str]:
    """`name==version` of an .in file and of the files it includes with -r."""
    pins = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            pins |= direct_pins(path.parent / line[3:].strip())
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[([^\]]+)\])?==(\S+)", line)
        assert match, f"{path.name}: {raw!r} is not pinned as name==version"
        name, _extras, version = match.groups()  # an extra's packages are the lock's business
        pins[normalise(name)] = version
    return pins


def locked(path: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of a lock; a name locked twice (per Python version) keeps every version."""
    entries: dict[str, tuple[str, list[str]]] = {}
    text = path.read_text(encoding="utf-8")
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", block)
        if not match:
            continue
        name, version = normalise(match.group(1)), match.group(2)
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", block)
        assert hashes, f"{path.name}: {name}=={version} has no --hash=sha256 (a lock without hashes is no lock)"
        previous_version, previous_hashes = entries.get(name, ("", []))
        entries[name] = (f"{previous_version}|{version}" if previous_version else version, previous_hashes + hashes)
    return entries


@pytest.mark.parametrize(
    ("source", "lock"), [("requirements.in", "requirements.lock"), ("requirements-dev.in", "requirements-dev.lock")]
)
def test_every_direct_pin_is_locked_at_its_version_with_hashes(source, lock):
    pins, entries = direct_pins(ROOT / source), locked(ROOT / lock)
    assert pins, f"{source} names no requirement"
    for name, version in pins.items():
        assert name in entries, f"{lock}: {name}=={version} from {source} is missing — {RELOCK}"
        assert entries[name][0] == version, f"{lock}: {name} is {entries[name][0]}, {source} says {version} — {RELOCK}"


def test_the_development_lock_installs_the_runtime_lock_unchanged():
    runtime, development = locked(ROOT / "requirements.lock"), locked(ROOT / "requirements-dev.lock")
    for name, (version, _hashes) in runtime.items():
        assert development.get(name, ("missing",))[0] == version, f"requirements-dev.lock: {name} — {RELOCK}"
