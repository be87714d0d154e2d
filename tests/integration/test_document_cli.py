"""`zhifa document render`: what a template author runs to see a template with its sample context."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from engine.cli import main
from engine.documents.samples import SAMPLE_DOCUMENT
from tests.support.documents import docx_text, pdf_text


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_render_a_template_with_its_sample(tmp_path: Path) -> None:
    out = tmp_path / "inquiry.pdf"
    code, output = run("document", "render", "inquiry_record", "--out", str(out), "--docx")
    assert code == 0, output
    assert "询问笔录" in output and "文号代字 询" in output
    text = pdf_text(out.read_bytes())
    assert "广州市天河区示例便利店有限公司" in text and SAMPLE_DOCUMENT["number"] in text
    assert "价签更换时遗漏" in docx_text(out.with_suffix(".docx").read_bytes())


def test_render_with_other_data_names_what_is_missing(tmp_path: Path) -> None:
    data = tmp_path / "data.json"
    data.write_text(json.dumps({"findings": "x"}), encoding="utf-8")
    code, output = run("document", "render", "rectification_order", "--data", str(data), "--out", str(tmp_path / "r.pdf"))
    assert code == 1
    assert "rectification_order.html.j2" in output and "violated_provision" in output
    assert not (tmp_path / "r.pdf").exists()


def test_render_an_unknown_template(tmp_path: Path) -> None:
    code, output = run("document", "render", "no_such_thing", "--out", str(tmp_path / "x.pdf"))
    assert code == 1 and "no_such_thing.html.j2" in output
