"""The speed gate's decision logic, exit codes and report, on recorded sample sets."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from matloss.gate_speed import decide, exit_code, markdown, read_samples


def _noise(median: float, n: int = 30, seed: int = 0, spread: float = 0.03) -> list[float]:
    """Timing-like samples: a log-normal spread around ``median`` with a few slow outliers."""
    rng = np.random.default_rng(seed)
    s = median * np.exp(rng.normal(0.0, spread, n))
    s[rng.choice(n, 2, replace=False)] *= 1.5  # scheduler hiccups
    return s.tolist()


def _verdict(base, head, **kw):
    (v,) = decide({"b(x)": base}, {"b(x)": head}, **kw)
    return v


def test_clear_regression_is_slower():
    v = _verdict(_noise(1e-3, seed=1), _noise(1.5e-3, seed=2))
    assert v.status == "slower" and v.ratio == pytest.approx(1.5, rel=0.05) and v.p_value < 1e-6
    assert exit_code([v]) == 1


def test_noise_only_is_same():
    for seed in range(20):
        v = _verdict(_noise(1e-3, seed=seed), _noise(1e-3, seed=seed + 100))
        assert v.status == "same", (seed, v)
    assert exit_code([v]) == 0


def test_small_but_significant_change_below_factor_is_same():
    v = _verdict(_noise(1e-3, spread=0.001, seed=3), _noise(1.1e-3, spread=0.001, seed=4))
    assert v.status == "same" and v.ratio == pytest.approx(1.1, rel=0.01)
    assert _verdict(_noise(1e-3, spread=0.001, seed=3), _noise(1.1e-3, spread=0.001, seed=4), factor=1.05).status == "slower"


def test_large_ratio_without_significance_is_same():
    v = _verdict([1.0, 1.1], [3.0, 3.3])  # 3x slower, but two samples each: no test reaches 1 %
    assert v.ratio > 2.5 and v.p_value > 0.01  # beyond the factor, so the test was consulted
    assert v.status == "same"


def test_faster():
    assert _verdict(_noise(2e-3, seed=5), _noise(1e-3, seed=6)).status == "faster"


def test_newly_failing_benchmark():
    (v,) = decide({"b(x)": _noise(1e-3)}, {"b(x)": None})
    assert v.status == "failed" and exit_code([v]) == 2


def test_failure_outranks_regression():
    verdicts = decide({"a": _noise(1e-3, seed=1), "b": _noise(1e-3, seed=2)}, {"a": _noise(2e-3, seed=3), "b": None})
    assert {v.status for v in verdicts} == {"slower", "failed"} and exit_code(verdicts) == 2


def test_added_and_removed_and_changed_params():
    base = {"t(16)": _noise(1e-3), "t(128)": _noise(1e-2), "gone": _noise(1e-3)}
    head = {"t(16)": _noise(1e-3, seed=9), "t(512)": _noise(1e-1), "new": _noise(1e-3)}
    st = {v.name: v.status for v in decide(base, head)}
    assert st == {"t(16)": "same", "t(128)": "removed", "t(512)": "added", "gone": "removed", "new": "added"}
    assert exit_code(decide(base, head)) == 0
    (v,) = decide({"x": None}, {"x": _noise(1e-3)})  # failed before, runs now
    assert v.status == "added"


def test_bad_thresholds():
    with pytest.raises(ValueError, match="factor"):
        decide({}, {}, factor=0.9)
    with pytest.raises(ValueError, match="alpha"):
        decide({}, {}, alpha=2)


def test_markdown_report():
    verdicts = decide(
        {"slow": _noise(1e-3, seed=1), "same": _noise(1e-6, seed=2), "broken": _noise(1.0, seed=3)},
        {"slow": _noise(2e-3, seed=4), "same": _noise(1e-6, seed=5), "broken": None},
    )
    text = markdown(verdicts, "a" * 40, "b" * 40, 1.2, 0.01)
    assert text.startswith("### Speed gate: FAIL (benchmark failed)")
    assert "| `broken` | failed |" in text
    assert re.search(r"\| `slow` \| slower \| 1 ms \| 2 ms \| 1\.\d\d× \| [0-9.e-]+ \|", text)
    assert "`same`" not in text  # unchanged cases are counted, not listed
    assert "same: 1" in text
    ok = markdown(decide({"x": _noise(1e-3)}, {"x": _noise(1e-3, seed=1)}), "a" * 40, "b" * 40, 1.2, 0.01)
    assert ok.startswith("### Speed gate: pass") and "unchanged" in ok


def test_read_samples_from_asv_results(tmp_path):
    """asv 0.6 result files: per benchmark a row of result_columns; params expand to combinations."""
    cols = [
        "result",
        "params",
        "version",
        "started_at",
        "duration",
        "stats_ci_99_a",
        "stats_ci_99_b",
        "stats_q_25",
        "stats_q_75",
        "stats_number",
        "stats_repeat",
        "samples",
        "profile",
    ]
    data = {
        "result_columns": cols,
        "results": {
            "bench.T.time_f": [
                [1.0, None, float("nan"), 4.0],
                [["'a'", "'b'"], ["1", "2"]],
                "v",
                0,
                1,
                None,
                None,
                None,
                None,
                None,
                None,
                [[1.0, 1.1], None, None, [4.0, 4.2]],
            ],
            "bench.T.time_plain": [[0.5], [], "v", 0, 1, None, None, None, None, None, None, None],
        },
        "version": 2,
    }
    f1 = tmp_path / "r1.json"
    f1.write_text(json.dumps(data))
    got = read_samples([f1, f1])  # two rounds pool
    assert got["bench.T.time_f('a', 1)"] == [1.0, 1.1, 1.0, 1.1]
    assert got["bench.T.time_f('a', 2)"] is None  # failed
    assert "bench.T.time_f('b', 1)" not in got  # skipped or not selected
    assert got["bench.T.time_f('b', 2)"] == [4.0, 4.2, 4.0, 4.2]
    assert got["bench.T.time_plain"] == [0.5, 0.5]


def test_a_change_seen_in_one_round_only_is_not_a_regression():
    """One round taken during a load spike must not fail the gate on its own."""
    quiet_b, quiet_h = _noise(1e-3, seed=1), _noise(1e-3, seed=2)
    spike_b, spike_h = _noise(1e-3, seed=3), _noise(3e-3, seed=4)
    base, head = {"x": quiet_b + spike_b}, {"x": quiet_h + spike_h}
    rounds = [({"x": quiet_b}, {"x": quiet_h}), ({"x": spike_b}, {"x": spike_h})]
    assert decide(base, head)[0].ratio > 1.2  # pooled, it looks slower ...
    assert decide(base, head, rounds=rounds)[0].status == "same"  # ... but not in every round
    slow = [({"x": _noise(1e-3, seed=5)}, {"x": _noise(1.5e-3, seed=6)}), ({"x": _noise(1e-3, seed=7)}, {"x": _noise(1.5e-3, seed=8)})]
    pooled_b = slow[0][0]["x"] + slow[1][0]["x"]
    pooled_h = slow[0][1]["x"] + slow[1][1]["x"]
    assert decide({"x": pooled_b}, {"x": pooled_h}, rounds=slow)[0].status == "slower"


def test_samples_file_round_trip_redecides_offline(tmp_path):
    """--samples-out keeps each round's samples; re-deciding from the file at another factor works."""
    from matloss.gate_speed import load_samples, write_samples

    rounds = [({"x": _noise(1e-3, seed=s)}, {"x": _noise(1.12e-3, seed=s + 50)}) for s in (1, 2)]
    rounds[1][0]["y"] = None  # failed on base in one round
    pooled = [{k: sum((r[i].get(k) or [] for r in rounds), []) or None for k in ("x", "y")} for i in (0, 1)]
    pooled[1].pop("y")
    verdicts = decide(pooled[0], pooled[1], rounds=rounds)
    path = tmp_path / "gate.json"
    write_samples(path, "a" * 40, "b" * 40, 1.2, 0.01, rounds, verdicts)
    base, head, got_rounds, paired = load_samples(path)
    assert paired is False
    assert base["x"] == pooled[0]["x"] and head["x"] == pooled[1]["x"] and base["y"] is None
    assert [v.status for v in decide(base, head, rounds=got_rounds)] == [v.status for v in verdicts] == ["same", "removed"]
    assert decide(base, head, factor=1.05, rounds=got_rounds)[0].status == "slower"  # 12 % is caught at 1.05
    assert json.loads(path.read_text())["verdicts"][0]["name"] == "x"


def test_gate_speed_refuses_bad_arguments_before_running(tmp_path, capsys):
    from matloss.cli import main

    assert main(["gate", "speed", "HEAD"]) == 2
    assert main(["gate", "speed", "HEAD", "no-such-commit-xyz"]) == 2
    assert "unknown commit" in capsys.readouterr().err
    assert main(["gate", "speed", "HEAD", "HEAD", "--factor", "0.9"]) == 2
    assert main(["gate", "speed", "HEAD", "HEAD", "--rounds", "3"]) == 2  # the paired test needs >= 4 rounds
    assert "too few" in capsys.readouterr().err
    assert main(["gate", "speed", "HEAD", "HEAD", "--samples-out", str(tmp_path)]) == 2
    assert "--samples-out" in capsys.readouterr().err


def _drifting_rounds(ratio: float, rounds: int = 10, n: int = 10, seed: int = 0, offset: float = 0.05):
    """Rounds of pairs taken back to back on a machine whose speed drifts by up to 2x between
    pairs, each round's processes carrying their own offset (memory placement) of sd ``offset`` (A/A round
    ratios of torch frobenius n = 512 ranged 0.80-1.15 here: a ratio sd of about 5 %)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(rounds):
        machine = np.exp(rng.uniform(-0.7, 0.7, n))  # the moment's slowness, shared by both members
        b_off, h_off = np.exp(rng.normal(0, offset, 2))
        base = 1e-4 * b_off * machine * np.exp(rng.normal(0, 0.01, n))
        head = ratio * 1e-4 * h_off * machine * np.exp(rng.normal(0, 0.01, n))
        out.append(({"x": base.tolist()}, {"x": head.tolist()}))
    pooled = [{"x": sum((r[i]["x"] for r in out), [])} for i in (0, 1)]
    return pooled[0], pooled[1], out


def test_paired_rounds_see_a_small_change_through_drift_and_process_offsets():
    base, head, rounds = _drifting_rounds(1.12, offset=0.03)
    (paired,) = decide(base, head, factor=1.05, rounds=rounds, paired=True)
    assert paired.status == "slower" and paired.ratio == pytest.approx(1.12, rel=0.05) and paired.p_value < 0.01
    (unpaired,) = decide(base, head, factor=1.05, rounds=rounds)
    assert unpaired.status == "same"  # the drift hides it from the unpaired rule


def test_paired_noise_only_is_same():
    for seed in range(30):
        base, head, rounds = _drifting_rounds(1.0, seed=seed)
        assert decide(base, head, factor=1.05, rounds=rounds, paired=True)[0].status == "same", seed


def test_paired_test_needs_enough_rounds():
    from matloss.gate_speed import MIN_PAIRED_ROUNDS, blocked_ratio

    assert MIN_PAIRED_ROUNDS == 4
    with pytest.raises(ValueError, match="at least 4 rounds"):
        blocked_ratio([1.1, 1.2, 1.1])
    base, head, rounds = _drifting_rounds(1.12, rounds=MIN_PAIRED_ROUNDS - 1, offset=0.01)
    (v,) = decide(base, head, factor=1.05, rounds=rounds, paired=True)  # too few rounds: the unpaired rule, which the drift defeats
    assert v.status == "same"
    base, head, rounds = _drifting_rounds(1.12, rounds=MIN_PAIRED_ROUNDS, offset=0.01)
    assert decide(base, head, factor=1.05, rounds=rounds, paired=True)[0].status == "slower"


def test_blocked_ratio_cancels_the_start_order():
    """Rounds alternate which commit starts first (even: base); a first-started process slower by
    30 % must neither fake a change nor hide one, with even or odd round counts."""
    from matloss.gate_speed import blocked_ratio

    rng = np.random.default_rng(3)
    for n in (8, 9, 10):
        noise = np.exp(rng.normal(0, 0.01, n))
        order = np.array([1 / 1.3 if r % 2 == 0 else 1.3 for r in range(n)])  # base first: head looks faster
        ratio, p = blocked_ratio(list(order * noise))
        assert ratio == pytest.approx(1.0, abs=0.02) and 0.01 < p < 0.99, n
        ratio, p = blocked_ratio(list(1.1 * order * noise))
        assert ratio == pytest.approx(1.1, rel=0.02) and p < 1e-4, n
    assert blocked_ratio([1.1] * 6) == (pytest.approx(1.1), 0.0)  # no scatter at all: the sign decides
    assert blocked_ratio([1 / 1.1] * 6)[1] == 1.0


def test_paired_falls_back_when_rounds_do_not_pair():
    rounds = [({"x": _noise(1e-3, n=10, seed=1)}, {"x": _noise(1.5e-3, n=12, seed=2)})]
    (v,) = decide({"x": rounds[0][0]["x"]}, {"x": rounds[0][1]["x"]}, rounds=rounds, paired=True)
    assert v.status == "slower" and v.ratio == pytest.approx(1.5, rel=0.05)  # Mann-Whitney on the pooled samples


def test_paired_runner_end_to_end(tmp_path):
    """The real runner on one cheap case: HEAD against itself passes, with paired samples recorded."""
    import subprocess
    import sys

    case = r"bench_speed\.Forward\.time_forward\('tikhonov', 'numpy', 'cpu', 'float64', '16', 'eager'\)"
    out = tmp_path / "gate.json"
    proc = subprocess.run([sys.executable, "-m", "matloss", "gate", "speed", "HEAD", "HEAD", "-b", case, "--rounds", "7",
                           "--pairs", "3", "--factor", "3", "--samples-out", str(out)], capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "t-test across rounds" in proc.stdout and "All 1 benchmark cases unchanged" in proc.stdout
    doc = json.loads(out.read_text())
    assert doc["paired"] and len(doc["rounds"]) == 7
    (name,) = doc["rounds"][0]["base"]
    assert "'tikhonov', 'numpy'" in name
    assert all(len(r[side][name]) == 3 and min(r[side][name]) > 0 for r in doc["rounds"] for side in ("base", "head"))


def test_paired_runner_with_nothing_runnable_exits_2():
    import subprocess
    import sys

    skipped = r"bench_speed\.Forward\.time_forward\('tikhonov', 'numpy', 'cpu', 'float64', '16', 'compiled'\)"  # numpy: eager only
    proc = subprocess.run([sys.executable, "-m", "matloss", "gate", "speed", "HEAD", "HEAD", "-b", skipped, "--rounds", "7"],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 2 and "no benchmark" in proc.stderr
