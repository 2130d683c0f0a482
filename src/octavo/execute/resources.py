"""What a page needs (CPUs, GPUs, memory) and what the machine has.

The local scheduler never hands out more than the inventory holds: GPUs go to
one page at a time as device ids (``CUDA_VISIBLE_DEVICES``), CPUs and memory are
budgets. A page asking for more than the machine has fails at planning time.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field

from ..errors import Diagnostic

UNITS = {"": 1, "b": 1, "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9,
         "t": 1e12, "tb": 1e12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_memory(value) -> int:
    """'6GB', '512 MiB', 2e9 → bytes; raises ValueError with what was found."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not an amount of memory")
    if isinstance(value, (int, float)):
        return int(value)
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", str(value))
    if not m or m.group(2).lower() not in UNITS:
        raise ValueError(f"{value!r} is not an amount of memory (e.g. '6GB', '512MiB')")
    return int(float(m.group(1)) * UNITS[m.group(2).lower()])


def format_memory(n: int) -> str:
    return f"{n / 1e9:.1f}GB" if n >= 1e8 else f"{n / 1e6:.0f}MB"


@dataclass(frozen=True)
class Request:
    cpus: int = 1
    gpus: int = 0
    memory: int = 0  # bytes; 0: no budget asked for

    def describe(self) -> str:
        parts = [f"{self.cpus} CPU{'s' if self.cpus != 1 else ''}"]
        if self.gpus:
            parts.append(f"{self.gpus} GPU{'s' if self.gpus != 1 else ''}")
        if self.memory:
            parts.append(format_memory(self.memory) + " memory")
        return ", ".join(parts)


@dataclass
class Inventory:
    cpus: int
    gpus: list[str]  # device ids
    memory: int  # bytes

    @classmethod
    def detect(cls) -> Inventory:
        import psutil

        return cls(os.cpu_count() or 1, detect_gpus(), psutil.virtual_memory().total)

    def describe(self) -> str:
        return (f"{self.cpus} CPUs, {len(self.gpus)} GPUs, {format_memory(self.memory)} memory")


def detect_gpus() -> list[str]:
    """Device ids of the NVIDIA GPUs this process may use."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [d.strip() for d in visible.split(",") if d.strip() and d.strip() != "-1"]
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [str(i) for i, line in enumerate(out.stdout.splitlines()) if line.startswith("GPU ")]


def page_request(metadata: dict, defaults: Request, rel: str,
                 problems: list[Diagnostic]) -> Request:
    """The request in ``octavo: resources: {...}`` of a page's front matter."""
    octavo = metadata.get("octavo") or {}
    spec = octavo.get("resources", {}) if isinstance(octavo, dict) else {}
    if not isinstance(spec, dict):
        problems.append(Diagnostic(rel, 2, f"octavo.resources = {spec!r}: expected a mapping",
                                   "e.g. 'resources: {gpus: 1, memory: 6GB, cpus: 2}'"))
        return defaults
    unknown = set(spec) - {"cpus", "gpus", "memory"}
    for key in sorted(unknown):
        problems.append(Diagnostic(rel, 2, f"unknown resource '{key}' in octavo.resources",
                                   "use cpus, gpus and memory"))
    cpus, gpus, memory = defaults.cpus, defaults.gpus, defaults.memory
    for key in ("cpus", "gpus"):
        if key in spec:
            value = spec[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                problems.append(Diagnostic(rel, 2, f"octavo.resources.{key} = {value!r}: "
                                           "expected a whole number >= 0"))
            elif key == "cpus":
                cpus = max(1, value)
            else:
                gpus = value
    if "memory" in spec:
        try:
            memory = parse_memory(spec["memory"])
        except ValueError as exc:
            problems.append(Diagnostic(rel, 2, f"octavo.resources.memory: {exc}"))
    return Request(cpus, gpus, memory)


def impossible(request: Request, inventory: Inventory) -> str | None:
    """Why a request can never be met on this machine (None when it can)."""
    missing = []
    if request.cpus > inventory.cpus:
        missing.append(f"{request.cpus} CPUs (the machine has {inventory.cpus})")
    if request.gpus > len(inventory.gpus):
        missing.append(f"{request.gpus} GPUs (the machine has {len(inventory.gpus)})")
    if request.memory > inventory.memory:
        missing.append(f"{format_memory(request.memory)} memory (the machine has "
                       f"{format_memory(inventory.memory)})")
    return "; ".join(missing) or None


@dataclass
class Allocation:
    cpus: int
    gpus: list[str]
    memory: int
    slot: int  # worker slot number, for reports

    def env(self, inventory: Inventory) -> dict[str, str | None]:
        """Environment for the kernel; None removes a variable."""
        if self.gpus:
            return {"CUDA_VISIBLE_DEVICES": ",".join(self.gpus)}
        if inventory.gpus:  # GPUs exist, none is this page's: hide them
            return {"CUDA_VISIBLE_DEVICES": "-1"}
        return {"CUDA_VISIBLE_DEVICES": None}  # no GPUs at all: an empty value never reaches it


@dataclass
class Ledger:
    """What is handed out right now; ``take`` refuses anything that would oversubscribe."""

    inventory: Inventory
    slots: int  # at most this many pages at once (-j)
    cpus: int = 0
    memory: int = 0
    gpus_free: list[str] = field(default_factory=list)
    slots_free: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.gpus_free = list(self.inventory.gpus)
        self.slots_free = list(range(self.slots))

    def fits(self, request: Request) -> bool:
        return (bool(self.slots_free)
                and self.cpus + request.cpus <= self.inventory.cpus
                and request.gpus <= len(self.gpus_free)
                and (request.memory == 0 or self.memory + request.memory <= self.inventory.memory))

    def take(self, request: Request) -> Allocation | None:
        if not self.fits(request):
            return None
        gpus = self.gpus_free[: request.gpus]
        del self.gpus_free[: request.gpus]
        self.cpus += request.cpus
        self.memory += request.memory
        slot = self.slots_free.pop(0)
        return Allocation(request.cpus, gpus, request.memory, slot)

    def give_back(self, allocation: Allocation) -> None:
        self.cpus -= allocation.cpus
        self.memory -= allocation.memory
        self.gpus_free.extend(allocation.gpus)
        self.gpus_free.sort(key=lambda d: (len(d), d))
        self.slots_free.append(allocation.slot)
        self.slots_free.sort()
