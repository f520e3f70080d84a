"""BRIGADE_NICENESS: a web process that leaves the kitchen's delivery to another runs below it on the CPU."""

from __future__ import annotations

from pathlib import Path

from tests.support.lifespan import run_in_fresh_process

_SERVE_ONCE = """
    before = os.getpriority(os.PRIO_PROCESS, 0)
    app = create_app(settings(niceness=int(sys.argv[2])))
    async with app.lifespan():
        print(before, os.getpriority(os.PRIO_PROCESS, 0))
"""


def _serve_once(tmp_path: Path, niceness: int, *, start_at: int = 0) -> tuple[int, int]:
    """The process's niceness before the app starts and while it serves."""
    before, serving = run_in_fresh_process(tmp_path, _SERVE_ONCE, str(niceness), nice=start_at).split()[-2:]
    return int(before), int(serving)


def test_a_web_process_takes_the_niceness_it_is_given(tmp_path: Path) -> None:
    assert _serve_once(tmp_path, 10) == (0, 10)


def test_by_default_a_process_keeps_its_priority(tmp_path: Path) -> None:
    assert _serve_once(tmp_path, 0) == (0, 0)


def test_a_process_started_lower_is_never_raised(tmp_path: Path) -> None:
    # Raising a priority takes privileges; a process an operator started lower stays where it was put.
    assert _serve_once(tmp_path, 5, start_at=12) == (12, 12)
