"""Every corpus case through ``lift3d.cli.main`` in this process: its exit code, one ``lift3d: error:`` line naming
the input or problem, no traceback, no partial output, untouched inputs, within its time bound.

Cases pending another change's fix are ``xfail(strict=True)``: when the fix lands they pass, and the marker goes.
"""

from __future__ import annotations

import pytest

from .cases import Case, Shared
from .corpus import all_cases
from .runner import invoke, invoke_isolated, problems, snapshot

CASES = all_cases()


def _param(case: Case):
    marks = [pytest.mark.xfail(strict=True, reason=f"pending fix: {case.pending}")] if case.pending else []
    return pytest.param(case, id=case.name, marks=marks)


@pytest.fixture(scope="session")
def badinput_shared(tmp_path_factory) -> Shared:
    return Shared(tmp_path_factory.mktemp("badinput_shared"))


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_case(case: Case, badinput_shared: Shared, tmp_path, capfd, monkeypatch) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path)  # anything written to the working folder shows up in the snapshot
    argv = case.build(tmp_path, badinput_shared)
    before = snapshot(tmp_path, badinput_shared.root)
    capfd.readouterr()
    outcome = invoke_isolated(argv, case.seconds, tmp_path) if case.isolate else invoke(argv, case.seconds)
    out, err = capfd.readouterr()
    if case.isolate:
        out, err = outcome.out or "", outcome.err or ""
    after = snapshot(tmp_path, badinput_shared.root)
    found = problems(case, outcome, out, err, before, after, tmp_path)
    assert not found, f"lift3d {' '.join(argv)}\n" + "\n".join(found)


def test_the_checks_catch_a_wrong_expectation(badinput_shared: Shared, tmp_path, capfd, monkeypatch) -> None:
    """The checker is not blind: a zero-byte image said to work, and a good image said to fail, are both flagged."""
    import dataclasses

    by_name = {c.name: c for c in CASES}
    for name, flip in (("image/zero_byte_png", {"code": 0, "message": None}),
                       ("image/rgba_png", {"code": 2, "message": "rgba", "creates": None})):
        case = dataclasses.replace(by_name[name], **flip)
        d = tmp_path / name.replace("/", "_")
        (d / "in").mkdir(parents=True)
        (d / "out").mkdir()
        monkeypatch.chdir(d)
        argv = case.build(d, badinput_shared)
        before = snapshot(d)
        capfd.readouterr()
        outcome = invoke(argv, case.seconds)
        out, err = capfd.readouterr()
        assert problems(case, outcome, out, err, before, snapshot(d), d), name


def test_corpus_size_and_kinds() -> None:
    from .cases import KINDS

    assert len(CASES) >= 200
    assert {c.kind for c in CASES} == set(KINDS)
