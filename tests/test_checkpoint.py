"""A chain that resumes (issue 15 item 4): what a run computed is kept in a folder and a later run
takes it, with the same numbers, bit for bit, as a run from scratch.

Behaviours:

* a backtest run again with one more evidence date equals a run from scratch, and takes the
  earlier dates' parts and worlds from the store instead of computing them;
* an edit of an earlier item, new questions or another seed change the keys: the results are
  again those of a run from scratch;
* a run with every part kept computes nothing and gives the same numbers;
* a store file that is damaged, or holds a pickled object, is a miss (never an error, never code
  run); the store keeps to its size limit;
* the codec keeps trees of arrays and numbers exactly; fingerprints see every digit and refuse
  what has no canonical form;
* ``backtest --cache DIR`` writes the same files as a run without it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import subprocess
import sys

import numpy as np
import pytest

from conftest import BASE, REPO, backtest_outputs
from scenarios.engine import asof
from scenarios.engine.checkpoint import ChainStore, decode, encode, fingerprint
from scenarios.engine.evidence import Evidence

DATES = [dt.date(2023, 9, 5), dt.date(2023, 9, 12), dt.date(2023, 9, 14), dt.date(2023, 9, 20), dt.date(2023, 10, 15)]
SAMPLES, CHUNK = 800, 400  # two chunks of 400 worlds, four islands each


def _until(evidence: Evidence, last: dt.date) -> Evidence:
    return Evidence(tuple(it for it in evidence.items if it.public_on <= last), evidence.file)


def _backtest(base, evidence, store=None, seed=None, questions=None):
    return backtest_outputs(base, evidence, store, dates=DATES, samples=SAMPLES, chunk_size=CHUNK, seed=seed,
                            questions=questions, fans=True)


class _Counting(ChainStore):
    """A store that counts hits, so a test can see that kept values were used."""

    def __init__(self, folder):
        super().__init__(folder)
        self.hits: list = []

    def get(self, key):
        value = super().get(key)
        if value is not None:
            self.hits.append(key[0])
        return value


def test_one_more_evidence_date_resumes_and_equals_a_run_from_scratch(base, tmp_path):
    _, _, data = base
    # the items of 2023-09-15 (observations) arrive; reports with a figure are not public yet
    earlier, later = _until(data.evidence, dt.date(2023, 9, 14)), _until(data.evidence, dt.date(2023, 9, 15))
    assert len(later) > len(earlier)
    store = _Counting(tmp_path / "chain")
    _backtest(base, earlier, store)
    assert not store.hits and any(f.name.startswith("s") for f in (tmp_path / "chain").iterdir())
    resumed = _backtest(base, later, store)
    assert "p" in store.hits, "the earlier dates' parts should come from the store"
    assert "s" in store.hits, "the chain should continue from kept worlds"
    assert resumed == _backtest(base, later)
    store.hits.clear()
    again = _backtest(base, later, store)
    assert again == resumed and set(store.hits) == {"p"}, "every part kept: nothing to compute"


def test_an_edited_earlier_item_a_new_figure_a_new_seed_or_new_questions_give_a_run_from_scratch(base, tmp_path):
    model, questions, data = base
    store = ChainStore(tmp_path / "chain")
    _backtest(base, _until(data.evidence, dt.date(2023, 10, 12)), store)
    # a reported figure adds a target scored at every earlier date: computed again, same numbers
    evidence = _until(data.evidence, dt.date(2023, 10, 15))
    assert _backtest(base, evidence, store) == _backtest(base, evidence)
    first = sorted(evidence.items, key=lambda it: it.public_on)[1]  # an item public on 2023-09-11
    edited = Evidence(tuple(dataclasses.replace(it, public_on=dt.date(2023, 9, 13)) if it is first else it
                            for it in evidence.items), evidence.file)
    assert _backtest(base, edited, store) == _backtest(base, edited)
    assert _backtest(base, evidence, store, seed=11) == _backtest(base, evidence, seed=11)
    fewer = questions[::2]
    assert _backtest(base, evidence, store, questions=fewer) == _backtest(base, evidence, questions=fewer)


def test_a_forecast_as_of_a_date_continues_a_kept_chain(base, tmp_path):
    model, questions, data = base
    store = _Counting(tmp_path / "chain")
    asof.forecast_as_of(model, questions, data.evidence, dt.date(2024, 1, 10), samples=SAMPLES, chunk_size=CHUNK, store=store)
    later = asof.forecast_as_of(model, questions, data.evidence, dt.date(2024, 3, 1), samples=SAMPLES, chunk_size=CHUNK,
                                store=store)  # new reported figures too: a forecast has no targets
    assert "s" in store.hits
    fresh = asof.forecast_as_of(model, questions, data.evidence, dt.date(2024, 3, 1), samples=SAMPLES, chunk_size=CHUNK)
    assert repr(later.questions) == repr(fresh.questions) and later.ess == fresh.ess


def test_damaged_or_pickled_files_are_misses_never_errors_never_code(base, tmp_path):
    folder = tmp_path / "chain"
    store = ChainStore(folder)
    evidence = _until(base[2].evidence, dt.date(2023, 10, 15))
    reference = _backtest(base, evidence, store)
    files = sorted(folder.iterdir())
    for f in files[::3]:
        f.write_bytes(f.read_bytes()[:100])  # cut short
    for f in files[1::3]:  # an object array: np.load(allow_pickle=False) refuses it
        buffer = io.BytesIO()
        np.savez(buffer, tree=np.frombuffer(b'{"array":0}', dtype=np.uint8), a0=np.array([object()], dtype=object))
        f.write_bytes(buffer.getvalue())
    assert _backtest(base, evidence, store) == reference
    assert store.get("0" * 64) is None
    with pytest.raises(ValueError):
        store.get("../escape")


def test_the_store_keeps_to_its_size_limit(tmp_path):
    store = ChainStore(tmp_path, max_bytes=60_000)
    for i in range(10):
        assert store.put(f"k{i}", {"x": np.zeros(2_000)})  # about 16 KB each
    assert sum(f.stat().st_size for f in tmp_path.iterdir()) <= 60_000
    assert store.get("k9") is not None and store.get("k0") is None


def test_the_codec_keeps_trees_exactly_and_fingerprints_see_every_digit():
    tree = {"a": np.arange(5, dtype=np.int64), "b": [1.5, float("inf"), None, "x", (2, np.float64(0.1))],
            "c": {"d": np.ones((2, 3), dtype=bool)}, "e": np.float64(np.nan)}
    back = decode(*encode(tree))
    assert back["b"][:4] == [1.5, float("inf"), None, "x"] and back["b"][4] == (2, 0.1)
    assert np.array_equal(back["a"], tree["a"]) and back["a"].dtype == np.int64
    assert back["c"]["d"].dtype == bool and back["c"]["d"].shape == (2, 3) and np.isnan(back["e"])
    assert fingerprint({"sigma": 0.5}) != fingerprint({"sigma": 0.5000000001})
    assert fingerprint(dt.date(2024, 1, 1), (1, 2)) == fingerprint(dt.date(2024, 1, 1), [1, 2])
    with pytest.raises(TypeError):
        fingerprint(lambda w: w)
    with pytest.raises(TypeError):
        encode({"f": object()})


@pytest.mark.slow
def test_backtest_cache_option_writes_the_same_files(tmp_path):
    def run(out, *extra):
        cmd = [sys.executable, "-m", "scenarios", "backtest", BASE, "--samples", "800", "--jobs", "1",
               "--as-of-dates", ",".join(str(d) for d in DATES), "--out", str(out), *extra]
        subprocess.run(cmd, check=True, cwd=REPO, capture_output=True, text=True)
        return {name: (out / name).read_bytes() for name in ("backtest.csv", "numeric.csv", "summary.json")}

    plain = run(tmp_path / "plain")
    cached = run(tmp_path / "first", "--cache", str(tmp_path / "cache"))
    again = run(tmp_path / "again", "--cache", str(tmp_path / "cache"))
    assert plain == cached == again
    assert any((tmp_path / "cache").iterdir())
