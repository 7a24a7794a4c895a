"""The README's Python blocks run as written, in order, in a fresh interpreter (a new user pastes them)."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", markdown, flags=re.DOTALL | re.MULTILINE)


def test_readme_python_blocks_run_in_order(tmp_path):
    blocks = python_blocks((ROOT / "README.md").read_text())
    assert len(blocks) >= 2
    script = "\n\n".join(blocks) + "\n\nprint('README OK', round(result.value, 2), [round(c, 2) for c in result.ci])\n"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]))
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    # The numbers the README quotes next to estimate_mi are the ones this code gives (to the printed
    # digits, with a little slack for another CPU's float rounding).
    quoted = re.search(r"result.value ≈ ([\d.]+) nats, result.ci ≈ \(([\d.]+), ([\d.]+)\)", "".join(blocks))
    got = re.search(r"README OK ([\d.]+) \[([\d.]+), ([\d.]+)\]", done.stdout)
    assert quoted and got, done.stdout
    for q, g in zip(quoted.groups(), got.groups()):
        assert abs(float(q) - float(g)) <= 0.015, (quoted.groups(), got.groups())
