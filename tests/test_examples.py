"""Every script in examples/ runs in its tiny setting (INFOBOUND_EXAMPLE_TINY=1) in a fresh interpreter."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p.name for p in (ROOT / "examples").glob("*.py"))


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, INFOBOUND_EXAMPLE_TINY="1", OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]))
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs(script, tmp_path):
    done = _run([str(ROOT / "examples" / script)], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip(), "an example shows what it did"


def test_examples_are_listed_in_their_readme():
    listed = (ROOT / "examples" / "README.md").read_text()
    assert all(f"({script})" in listed for script in SCRIPTS)


@pytest.mark.slow
def test_lightning_example_under_ddp_on_two_cpu_processes(tmp_path):
    """examples/ddp.md's claim that the module runs under DDP unchanged (two gloo processes, ~40 s)."""
    done = _run([str(ROOT / "examples" / "bound_as_loss_lightning.py"), "--strategy", "ddp", "--devices", "2"],
                tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "(world size 2)" in done.stdout
