"""The memory budget of a build: a corpus that would not fit is refused before it is read.

A build holds the records, their triples, the validation and the writers in memory at once; its
peak grows in step with the size of the record tables. The rule (measured, ``docs/scale.md``,
"Memory budget"): a build needs about :data:`BASE_RESIDENT` plus :data:`PER_BYTE_RESIDENT` times
the tables' size in memory, and :data:`BASE_ADDRESS` plus :data:`PER_BYTE_ADDRESS` times it in
address space. :func:`check_budget` compares that with the limits the process has: the
address-space limit (``ulimit -v``, ``prlimit --as``: past it a Rust allocation aborts the
process), the control group's memory limit, the memory available (with swap), and ``--max-memory``;
it refuses a corpus over one of them with one line naming that limit, instead of an abort or the
kernel's OOM killer later on.

>>> estimate(157_000_000).resident > 8 * 2**30
True
"""

from __future__ import annotations

import resource
import zipfile
from dataclasses import dataclass
from pathlib import Path

from chuzhi_graph.errors import MemoryBudgetError

#: resident memory of a whole build (views and the store's load included), measured (VmHWM) at
#: 3,400, 7,000, 10,000 and 100,000 synthetic cases (docs/scale.md), with a margin of 14 % or
#: more at each: a fixed part (the interpreter, rdflib, pyoxigraph, the ontology) ...
BASE_RESIDENT = 384 * 2**20
#: ... and bytes per byte of record tables (CSV; an XLSX counts its uncompressed XML)
PER_BYTE_RESIDENT = 128
#: address space (VmPeak), which ``ulimit -v``/``prlimit --as`` bound: threads' stacks and the
#: allocators' arenas reserve more than they use
BASE_ADDRESS = 1280 * 2**20
PER_BYTE_ADDRESS = 160


@dataclass(frozen=True)
class Estimate:
    """What a build of ``size`` bytes of tables needs (bytes)."""

    size: int
    resident: int
    address: int


def estimate(size: int) -> Estimate:
    """The memory a build of record tables of ``size`` bytes needs, by the measured rule."""
    return Estimate(size, BASE_RESIDENT + PER_BYTE_RESIDENT * size, BASE_ADDRESS + PER_BYTE_ADDRESS * size)


def tables_size(data_dir: Path, names: list[str]) -> int:
    """Bytes of the record tables ``names`` in ``data_dir`` (an XLSX: its uncompressed parts)."""
    total = 0
    for name in names:
        csv_path, xlsx_path = data_dir / f"{name}.csv", data_dir / f"{name}.xlsx"
        if csv_path.is_file():
            total += csv_path.stat().st_size
        elif xlsx_path.is_file():
            try:
                with zipfile.ZipFile(xlsx_path) as archive:
                    total += sum(info.file_size for info in archive.infolist())
            except (zipfile.BadZipFile, OSError):
                total += xlsx_path.stat().st_size  # the reader says what is wrong with it
    return total


def _read_int(path: str) -> int | None:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _available() -> int | None:
    """MemAvailable + SwapFree of /proc/meminfo, in bytes (None where there is none)."""
    try:
        fields = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines() if ":" in line)
        return sum(int(fields[k].split()[0]) * 1024 for k in ("MemAvailable", "SwapFree") if k in fields) or None
    except (OSError, ValueError):
        return None


def limits(max_memory: int | None = None) -> list[tuple[str, int, bool]]:
    """The limits that bind a build here: ``(what, bytes, is it on address space)``."""
    found: list[tuple[str, int, bool]] = []
    if max_memory is not None:
        found.append(("--max-memory", max_memory, False))
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        found.append(("the address-space limit (ulimit -v, prlimit --as)", soft, True))
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        value = _read_int(path)
        if value is not None and value < 2**60:
            found.append((f"the control group's memory limit ({path})", value, False))
    available = _available()
    if available is not None:
        found.append(("the memory available (MemAvailable + SwapFree)", available, False))
    return found


def _size(n: int) -> str:
    if n >= 2**30:
        return f"{n / 2**30:.1f} GiB"
    return f"{n / 2**20:.0f} MiB" if n >= 2**20 else f"{n / 2**10:.0f} KiB"


def check_budget(data_dir: str | Path, names: list[str], max_memory: int | None = None) -> Estimate:
    """Refuse (:class:`~chuzhi_graph.errors.MemoryBudgetError`) a corpus whose build would not fit.

    >>> check_budget("data", ["cases", "units"]).size > 0
    True
    """
    need = estimate(tables_size(Path(data_dir), names))
    for what, limit, address in limits(max_memory):
        wanted = need.address if address else need.resident
        if wanted > limit:
            raise MemoryBudgetError(
                f"the record tables ({_size(need.size)}) need about {_size(wanted)} of "
                f"{'address space' if address else 'memory'} to build, over {what} of {_size(limit)} "
                "(docs/scale.md, \"Memory budget\"); build a smaller corpus or give it more memory",
                file=data_dir)
    return need
