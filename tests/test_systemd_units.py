"""The systemd units in deploy/systemd are valid as systemd itself reads them, and hardened.

`systemd-analyze verify` also checks that ExecStart's program exists, so the units are
checked as copies that start a stand-in of /opt/lets/bin/lets; it reports a bad value
as a warning and exits 0, so a warning counts as a failure here.
"""
import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parent.parent / "deploy" / "systemd"
INSTALLED = "/opt/lets/bin/lets"
NAMES = ["lets-serve.service", "lets-poll.service"]

pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                reason="systemd-analyze is not installed (apt-get install systemd)")


@pytest.fixture
def units(tmp_path) -> dict[str, Path]:
    """The units as copies whose ExecStart runs a stand-in that exists."""
    stand_in = tmp_path / "lets"
    stand_in.write_text("#!/bin/sh\nexit 0\n")
    stand_in.chmod(0o755)
    copies = {}
    for name in NAMES:
        text = (UNITS / name).read_text()
        assert f"ExecStart={INSTALLED} " in text, f"{name} does not start {INSTALLED}"
        copies[name] = tmp_path / name
        copies[name].write_text(text.replace(INSTALLED, str(stand_in)))
    return copies


def analyze(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(["systemd-analyze", *args], capture_output=True, text=True, timeout=60, cwd=cwd)


@pytest.mark.parametrize("name", NAMES)
def test_the_unit_passes_systemd_analyze_verify_without_a_warning(units, name, tmp_path):
    result = analyze("verify", str(units[name]), cwd=tmp_path)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_verify_would_catch_a_misspelt_setting(units, tmp_path):
    broken = tmp_path / "lets-broken.service"
    broken.write_text(units["lets-serve.service"].read_text().replace("ProtectSystem=strict", "ProtectSystem=stric"))
    assert "protect system value, ignoring: stric" in analyze("verify", str(broken), cwd=tmp_path).stderr


@pytest.mark.parametrize("name", NAMES)
def test_the_unit_runs_as_its_own_user_in_its_state_directory_with_the_system_read_only(name):
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(UNITS / name)
    service = unit["Service"]
    assert service["User"] == "lets" and service["StateDirectory"] == "lets"
    assert service["WorkingDirectory"] == "/var/lib/lets"
    assert service["Environment"] == "LETS_SETTINGS=/var/lib/lets/settings.ini"
    assert service["ProtectSystem"] == "strict" and service["ProtectHome"] == "yes"
    assert service["PrivateTmp"] == "yes" and service["NoNewPrivileges"] == "yes"
    assert service["Restart"] == "on-failure"
    assert service["StandardOutput"] == service["StandardError"] == "journal"
    # Only lets serve may bind port 25; lets poll only connects out.
    wanted = "CAP_NET_BIND_SERVICE" if name == "lets-serve.service" else ""
    assert service["CapabilityBoundingSet"] == wanted
    assert service.get("AmbientCapabilities", "") == wanted


@pytest.mark.parametrize("name", NAMES)
def test_systemd_rates_the_unit_exposure_as_ok(units, name, tmp_path):
    result = analyze("security", "--offline=yes", str(units[name]), cwd=tmp_path)
    level = re.search(r"Overall exposure level for \S+: ([\d.]+) (\w+)", result.stdout)
    assert level, result.stdout[-2000:] + result.stderr
    # systemd's scale: 0 is fully confined, 10 is unprotected; below 4 it says OK.
    assert float(level.group(1)) < 3.0 and level.group(2) == "OK", level.group(0)
