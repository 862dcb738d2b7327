"""Lines from an operator's file (server/line_file.py) and `helpline lines`."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from server.demo import DEMO_LINES
from server.line_file import LineFileError, export_lines, parse_line, parse_line_file
from tests.server.test_retention_and_cli import _helpline

GOOD: dict[str, Any] = {
    "id": "youth-sms",
    "name": {"sv": "Ungdomslinjen", "da": "Ungelinjen", "en": "Youth line"},
    "audience": {"sv": "För dig under 25.", "da": "For dig under 25.", "en": "For you under 25."},
    "languages": ["sv", "da", "en"],
    "time_zone": "Europe/Copenhagen",
    "emergency": {
        "numbers": [{"label": {"sv": "Larm", "da": "Alarm", "en": "Emergency"}, "number": "112"}],
        "text": {"sv": "Ring 112.", "da": "Ring 112.", "en": "Call 112."},
    },
    "exit_url": "https://www.dr.dk/",
}


def _with(**changes: Any) -> dict[str, Any]:
    item = copy.deepcopy(GOOD)
    item.update(changes)
    return item


def test_a_good_file_gives_the_line_and_export_reads_back() -> None:
    (line,) = parse_line_file(json.dumps([GOOD]))
    assert line.id == "youth-sms" and line.time_zone == "Europe/Copenhagen"
    assert line.emergency["numbers"][0]["number"] == "112"
    # The demo lines survive the export/import round trip unchanged.
    assert parse_line_file(export_lines(DEMO_LINES)) == DEMO_LINES


@pytest.mark.parametrize(
    ("item", "fault"),
    [
        (_with(id="Youth Line"), "lines[0].id"),
        (_with(languages=["sv", "no"]), "languages"),
        (_with(time_zone="Europe/Atlantis"), "time_zone"),
        (_with(name={"sv": "Ungdomslinjen", "en": "Youth line"}), "name: missing da"),
        (_with(emergency={"numbers": [], "text": GOOD["emergency"]["text"]}), "numbers"),
        (
            _with(emergency={"numbers": GOOD["emergency"]["numbers"], "text": {"sv": "Ring"}}),
            "emergency.text: missing da, en",
        ),
        (
            _with(
                emergency={
                    "numbers": [{"label": GOOD["emergency"]["numbers"][0]["label"], "number": "x"}],
                    "text": GOOD["emergency"]["text"],
                }
            ),
            "numbers[0].number",
        ),
        (_with(exit_url="http://example.org/"), "exit_url"),
        (_with(colour="red"), "unknown keys"),
    ],
)
def test_faults_are_named_where_they_are(item: dict[str, Any], fault: str) -> None:
    with pytest.raises(LineFileError, match=fault.replace("[", r"\[").replace("]", r"\]")):
        parse_line_file(json.dumps([item]))


def test_an_unquoted_emergency_number_in_yaml_is_read_as_the_number() -> None:
    text = export_lines(parse_line_file(json.dumps([GOOD]))).replace("'112'", "112")
    assert "number: 112\n" in text
    assert parse_line_file(text)[0].emergency["numbers"][0]["number"] == "112"


def test_a_file_with_a_duplicate_or_nothing_is_refused() -> None:
    with pytest.raises(LineFileError, match="twice"):
        parse_line_file(json.dumps([GOOD, GOOD]))
    with pytest.raises(LineFileError, match="non-empty list"):
        parse_line_file("lines: []")
    with pytest.raises(LineFileError, match="not YAML"):
        parse_line_file("lines: [")


def test_lines_import_creates_updates_and_refuses_a_bad_file(
    database_url: str, tmp_path: Path
) -> None:
    line_id = f"l-{uuid.uuid4().hex[:8]}"
    path = tmp_path / "lines.yaml"
    path.write_text(json.dumps({"lines": [_with(id=line_id)]}), encoding="utf-8")
    made = _helpline(database_url, "lines", "import", str(path))
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == f"created {line_id}"
    renamed = _with(id=line_id, name={**GOOD["name"], "en": "Youth line (SMS)"})
    path.write_text(json.dumps([renamed]), encoding="utf-8")
    assert _helpline(database_url, "lines", "import", str(path)).stdout.strip() == (
        f"updated {line_id}"
    )
    listed = _helpline(database_url, "lines", "list").stdout
    assert f"{line_id}\tsv,da,en\tYouth line (SMS)" in listed
    # Other tests' lines share this database (some made without the file's checks).
    exported = yaml.safe_load(_helpline(database_url, "lines", "export").stdout)["lines"]
    (ours,) = [item for item in exported if item["id"] == line_id]
    assert parse_line(ours, "ours") == parse_line_file(json.dumps([renamed]))[0]
    # One bad line and nothing of the file is written.
    other = f"l-{uuid.uuid4().hex[:8]}"
    path.write_text(json.dumps([_with(id=other), _with(id="x", time_zone="Mars")]), "utf-8")
    refused = _helpline(database_url, "lines", "import", str(path))
    assert refused.returncode == 2 and "time_zone" in refused.stderr
    assert other not in _helpline(database_url, "lines", "list").stdout


def test_the_example_in_the_deploy_guide_is_a_valid_file() -> None:
    guide = (Path(__file__).parents[2] / "docs" / "deploy.md").read_text(encoding="utf-8")
    example = guide.split("```yaml\nlines:", 1)[1].split("```", 1)[0]
    assert [line.id for line in parse_line_file("lines:" + example)] == ["youth"]
