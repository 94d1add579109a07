"""One door for every state change: no code outside monographs/workflow.py writes a status."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRITERS = {"create", "update", "update_or_create", "get_or_create", "bulk_create", "bulk_update"}


def status_writes(path: Path) -> list[str]:
    """Assignments to `<x>.status` and `status=` given to a writing ORM call, as `file:line`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Attribute) and t.attr == "status" for t in targets):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WRITERS:
            names = {kw.arg for kw in node.keywords} | {
                key.value
                for kw in node.keywords
                if isinstance(kw.value, ast.Dict)
                for key in kw.value.keys
                if isinstance(key, ast.Constant)
            }
            if "status" in names:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_only_the_workflow_writes_a_status():
    sources = [p for p in (ROOT / "monographs").rglob("*.py") if "migrations" not in p.parts]
    writes = [w for p in sources if p.name != "workflow.py" for w in status_writes(p)]
    assert writes == []
    # The check finds what it looks for: the workflow itself writes statuses.
    assert status_writes(ROOT / "monographs" / "workflow.py")
