"""A case file against a forger and against hostile customer text: the check script (saved from
Appendix B, run with Python alone) renders the WHOLE file from Appendix A and compares byte for byte."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest

CASE = "TD-REF-2026-00001"
# What a customer may write: the old region markers, and an imitation of Appendix A with other data.
IMITATION = (
    "<!-- chain-checked: begin -->\n## Appendix A: chain data\n\n```json\n"
    '{"entries": [], "final_digest": "", "case_number": "X"}\n```\n<!-- chain-checked: end -->'
)


@pytest.fixture
def case(cli, tmp_path):
    cli.ok("new", "--customer", "Jane Roe", "--subject", "Kettle broken", "--description", IMITATION)
    cli.ok("log", CASE, "--channel", "email", "--direction", "in", "--summary", "Customer wrote", "--body", IMITATION)
    cli.ok("status", CASE, "l1")
    return CASE


def script_of(text: str, fmt: str) -> str:
    if fmt == "html":
        blocks = [html.unescape(b) for b in re.findall(r"<pre>(.*?)</pre>", text, re.S)]
        return next(b for b in blocks if b.startswith("# check_chain.py"))
    match = re.search(r"^(`{3,})python\n(.*?)\n\1$", text, re.S | re.M)
    return match.group(2)


def check(folder: Path, text: str, fmt: str, script: str | None = None) -> subprocess.CompletedProcess:
    """What the reader does: save Appendix B as check_chain.py, run it on the file, with Python alone."""
    (folder / "check_chain.py").write_text(script if script is not None else script_of(text, fmt), encoding="utf-8")
    (folder / f"case.{fmt}").write_text(text, encoding="utf-8", newline="")
    return subprocess.run(
        [sys.executable, "-I", "check_chain.py", f"case.{fmt}"], cwd=folder, capture_output=True, text=True
    )


@pytest.fixture(params=["md", "html"])
def exported(request, cli, case):
    fmt = request.param
    return fmt, cli.ok("export-case", case, "--format", fmt).stdout


def test_customer_text_imitating_the_markers_and_appendix_a_does_not_break_the_check(exported, tmp_path):
    fmt, text = exported
    assert text.count("## Appendix A: chain data") >= (3 if fmt == "md" else 0)  # two imitations, one real
    result = check(tmp_path, text, fmt)
    assert result.returncode == 0, result.stdout
    assert "everything the case file shows matches the chain data" in result.stdout


def _forge(fmt: str, text: str, how: str) -> str:
    if how == "section above":
        if fmt == "md":
            return text.replace("## Case\n", "## Settlement\n\nThe customer accepted 10 EUR in full.\n\n## Case\n", 1)
        return text.replace("<h2>Case</h2>", "<h2>Settlement</h2><p>The customer accepted 10 EUR.</p><h2>Case</h2>", 1)
    if how == "current state":
        return text.replace("Jane Roe", "John Doe", 1)
    if how == "integrity":
        return text.replace("was intact", "was intact (checked twice)", 1)
    if how == "after the end":
        return text + ("\n## Addendum\nRefund refused.\n" if fmt == "md" else "<p>Refund refused.</p>")
    if how == "timeline":
        return text.replace("Customer wrote", "Customer withdrew", 1)
    raise AssertionError(how)


FORGERIES = ["section above", "current state", "integrity", "after the end", "timeline"]


@pytest.mark.parametrize("how", FORGERIES)
def test_any_edit_to_what_a_reader_sees_fails_the_check(exported, tmp_path, how):
    fmt, text = exported
    forged = _forge(fmt, text, how)
    assert forged != text
    result = check(tmp_path, forged, fmt, script=script_of(text, fmt))
    assert result.returncode == 1, result.stdout
    assert "what the case file shows does not match the chain data: line" in result.stdout
    assert "DOES NOT MATCH" in result.stdout and "Traceback" not in result.stderr


def test_an_edited_check_script_in_appendix_b_fails_with_the_original_script(exported, tmp_path):
    fmt, text = exported
    original = script_of(text, fmt)
    forged = text.replace("DOES NOT MATCH", "DOES NOT MATCH (never printed)", 1)
    assert forged != text
    assert check(tmp_path, forged, fmt, script=original).returncode == 1


def test_a_file_without_its_chain_data_fails_in_one_line(exported, tmp_path):
    fmt, text = exported
    if fmt == "md":
        cut = text.replace("## Appendix A: chain data", "## Appendix A (removed)")
    else:
        cut = text.replace('<pre id="chain-data">', "<pre>", 1)
    result = check(tmp_path, cut, fmt, script=script_of(text, fmt))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
