"""The resource-aware scheduler: fake inventories at unit level, real kernels for GPU ids."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from octavo.build import BuildOptions, build
from octavo.config import load_config
from octavo.execute.cache import Cache
from octavo.execute.plan import plan
from octavo.execute.resources import (Allocation, Inventory, Ledger, Request, page_request,
                                      parse_memory)
from octavo.book import load_book

FAKE = Inventory(cpus=4, gpus=["0", "1"], memory=8 * 10**9)


def test_parse_memory():
    assert parse_memory("6GB") == 6 * 10**9
    assert parse_memory("512 MiB") == 512 * 2**20
    assert parse_memory(1.5e9) == 1_500_000_000
    with pytest.raises(ValueError, match="not an amount of memory"):
        parse_memory("lots")


def test_page_request_and_its_errors():
    problems = []
    req = page_request({"octavo": {"resources": {"gpus": 1, "memory": "6GB", "cpus": 2}}},
                       Request(), "p.md", problems)
    assert req == Request(cpus=2, gpus=1, memory=6 * 10**9) and problems == []
    page_request({"octavo": {"resources": {"gpus": -1, "disk": 3, "memory": "x"}}},
                 Request(), "p.md", problems)
    text = " | ".join(str(p) for p in problems)
    assert "unknown resource 'disk'" in text and "gpus = -1" in text and "memory" in text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 4), st.integers(0, 2),
                          st.integers(0, 8)), max_size=40))
def test_ledger_never_oversubscribes(ops):
    ledger = Ledger(FAKE, slots=3)
    held: list[Allocation] = []
    for take, cpus, gpus, gb in ops:
        if take or not held:
            got = ledger.take(Request(cpus, gpus, gb * 10**9))
            if got is not None:
                held.append(got)
        else:
            ledger.give_back(held.pop(0))
        assert sum(a.cpus for a in held) <= FAKE.cpus
        assert sum(a.memory for a in held) <= FAKE.memory
        ids = [g for a in held for g in a.gpus]
        assert len(ids) == len(set(ids)) and set(ids) <= set(FAKE.gpus)  # exclusive GPU ids
        assert len(held) <= 3 and len({a.slot for a in held}) == len(held)


def test_environment_for_gpu_and_cpu_pages():
    assert Allocation(1, ["1"], 0, 0).env(FAKE) == {"CUDA_VISIBLE_DEVICES": "1"}
    assert Allocation(1, [], 0, 0).env(FAKE) == {"CUDA_VISIBLE_DEVICES": "-1"}
    no_gpus = Inventory(2, [], 10**9)
    assert Allocation(1, [], 0, 0).env(no_gpus) == {"CUDA_VISIBLE_DEVICES": None}


def page(resources: str, body: str) -> str:
    return (f"---\noctavo:\n  resources: {resources}\n---\n# P\n\n```{{code-cell}} python\n"
            f"{body}\n```\n")


def test_impossible_requests_fail_at_planning(minibook):
    book = minibook(files={
        "octavo.toml": "",
        "index.md": "# I\n\n```{toctree}\nbig\nfine\n```\n",
        "big.md": page("{gpus: 3, memory: 64GB}", "print(1)"),
        "fine.md": page("{gpus: 2}", "print(2)"),
    })
    config = load_config(book.root)
    result = plan(load_book(config).pages, config, Cache(book.root / "c"), inventory=FAKE)
    (problem,) = result.problems
    assert str(problem).startswith("big.md:2: the page needs 3 GPUs (the machine has 2); "
                                   "64.0GB memory (the machine has 8.0GB); it can never run here")


ENV_PAGE = """import os, time, json
start = time.time()
time.sleep({sleep})
print(json.dumps({{"cvd": os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>"),
                  "start": start, "end": time.time()}}))"""


def test_gpu_ids_are_exclusive_in_real_kernels(minibook):
    pages = {"g1": "{gpus: 1}", "g2": "{gpus: 1}", "g3": "{gpus: 1}", "both": "{gpus: 2}",
             "cpu": "{cpus: 1}"}
    files = {"octavo.toml": "[build]\njobs = 4\n",
             "index.md": "# I\n\n```{toctree}\n" + "\n".join(pages) + "\n```\n"}
    for name, res in pages.items():
        files[f"{name}.md"] = page(res, ENV_PAGE.format(sleep=1.0))
    book = minibook(files=files)
    config = load_config(book.root)
    report = build(config, BuildOptions(inventory=FAKE, targets=()))
    assert report.ok, [str(f) for f in report.failures]
    seen = {}
    for name in pages:
        nb = json.loads((book.root / "_build" / "notebooks" / f"{name}.ipynb").read_text())
        seen[name] = json.loads("".join(nb["cells"][1]["outputs"][0]["text"]))
    assert seen["cpu"]["cvd"] == "-1"  # GPUs exist but are not this page's
    assert sorted(seen["both"]["cvd"].split(",")) == ["0", "1"]
    for name in ("g1", "g2", "g3"):
        assert seen[name]["cvd"] in ("0", "1")
    names = list(pages)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            overlap = seen[a]["start"] < seen[b]["end"] and seen[b]["start"] < seen[a]["end"]
            ids_a = set(seen[a]["cvd"].split(",")) - {"-1"}
            ids_b = set(seen[b]["cvd"].split(",")) - {"-1"}
            if overlap:
                assert not ids_a & ids_b, (a, b, seen[a], seen[b])


def test_report_has_seconds_memory_and_worker(minibook):
    book = minibook("basic")
    assert book.build().code == 0
    report = json.loads((book.root / "_build" / "report.json").read_text())
    row = next(r for r in report["notebooks"] if r["page"] == "chapter/plain.md")
    assert row["status"] == "executed" and row["seconds"] > 0
    assert row["peak_memory"] > 10 * 2**20 and re.fullmatch(r"local-\d", row["worker"])


def test_longest_known_pages_run_first(minibook):
    book = minibook("basic")
    assert book.build().code == 0
    config = load_config(book.root)
    cache = Cache(config.cache_path)
    state = cache.load_state()
    for name, seconds in (("chapter/uses_module.md", 9.0), ("chapter/uses_data.md", 1.0),
                          ("chapter/plain.md", 5.0)):
        state[name]["seconds"] = seconds
    cache.save_state(state)
    ordered = plan(load_book(config).pages, config, cache, force=True).to_run
    assert [j.page.rel for j in ordered] == ["chapter/uses_module.md", "chapter/plain.md",
                                            "chapter/uses_data.md"]
