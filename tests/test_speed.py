"""What the speed work must not change, and the imports a check must avoid."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from difflib import SequenceMatcher
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from authorkit.matching import _ratio

_TEXT = st.text(alphabet="abcdeghilmnoprstuy '-:0123", max_size=40)


@settings(max_examples=400, deadline=None)
@given(_TEXT, _TEXT, st.sampled_from([0.6, 0.75, 0.8, 0.86, 0.9, 0.95]))
def test_the_fast_bound_never_changes_a_heading_match(a: str, b: str, threshold: float) -> None:
    """The rapidfuzz bound only skips pairs difflib would reject: at or above the threshold
    the ratio is difflib's own, below it 0."""
    want = SequenceMatcher(None, a, b).ratio()
    got = _ratio(a, b, threshold)
    if want >= threshold:
        assert got == want
    else:
        assert got < threshold


def _site(root: Path, with_graphql: bool) -> None:
    (root / "authorkit.toml").write_text('default_style = "auto"\n[content]\nroots = ["."]\n', encoding="utf-8")
    body = "\n".join(f"Line {i} of prose about indexes." for i in range(200))
    for i in range(12):
        extra = "\n```graphql\ntype Q { id: ID! }\n```\n" if with_graphql and i == 3 else ""
        (root / f"page-{i}.md").write_text(
            f"# Page {i}\n\n## Schema\n\n```sql\nSELECT {i};\n```\n{extra}\n{body}\n", encoding="utf-8")


_PROBE = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from authorkit.config import load_workspace
    from authorkit.check import check_paths
    run = check_paths(load_workspace(Path(sys.argv[1])), None, use_cache=False, jobs=1)
    print(json.dumps({"files": len(run.results), "graphql": "graphql" in sys.modules,
                      "pglast": "pglast" in sys.modules}))
""")


def _probe(root: Path) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", _PROBE, str(root)], capture_output=True, text=True, timeout=300, cwd=root)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_language_parser_is_imported_only_when_a_document_has_that_language(tmp_path: Path) -> None:
    plain, gql = tmp_path / "plain", tmp_path / "gql"
    plain.mkdir()
    gql.mkdir()
    _site(plain, with_graphql=False)
    _site(gql, with_graphql=True)
    # graphql-core costs a quarter of a second to import: a site without GraphQL never pays it.
    assert _probe(plain) == {"files": 12, "graphql": False, "pglast": True}
    assert _probe(gql) == {"files": 12, "graphql": True, "pglast": True}
