"""Reform statistics (审批制度改革成效): how far time limits were compressed and materials cut.

Two comparisons, because the centres report both: promised against statutory limits for the
items in force (承诺时限比法定时限压缩), and today's promised limits against a baseline catalogue,
as in "总承诺时限由11184个工作日压缩至2726个工作日，总压缩率为75.63%".
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict

from daiban_contracts.catalogue import ItemKind, ItemStatus, ItemVersionData


class ReformStats(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    item_count: int
    statutory_working_days_total: int
    promised_working_days_total: int
    compressed_working_days: int
    compression_rate_percent: float
    immediate_item_count: int
    material_count: int
    baseline_item_count: int
    baseline_promised_working_days_total: int
    promised_reduction_working_days: int
    promised_reduction_percent: float
    baseline_immediate_item_count: int
    baseline_material_count: int
    materials_cut: int
    delegated_item_count: int


def reform_stats(
    versions_in_force: Iterable[ItemVersionData], baseline_versions: Iterable[ItemVersionData]
) -> ReformStats:
    """Compare the catalogue in force with a baseline (both one version per item; retired ones ignored).

    Materials cut counts, for items present in both, the baseline's materials whose code is gone.
    Delegated items are those now decided at a lower tier than in the baseline.
    """
    current = _by_code(versions_in_force)
    baseline = _by_code(baseline_versions)
    statutory = sum(v.statutory_working_days for v in current.values())
    promised = sum(v.promised_working_days for v in current.values())
    baseline_promised = sum(v.promised_working_days for v in baseline.values())
    common = current.keys() & baseline.keys()
    cut = sum(len(_material_codes(baseline[c]) - _material_codes(current[c])) for c in common)
    delegated = sum(1 for c in common if current[c].handling_level.rank < baseline[c].handling_level.rank)
    return ReformStats(
        item_count=len(current),
        statutory_working_days_total=statutory,
        promised_working_days_total=promised,
        compressed_working_days=statutory - promised,
        compression_rate_percent=percent(statutory - promised, statutory),
        immediate_item_count=_immediate(current.values()),
        material_count=sum(len(v.materials) for v in current.values()),
        baseline_item_count=len(baseline),
        baseline_promised_working_days_total=baseline_promised,
        promised_reduction_working_days=baseline_promised - promised,
        promised_reduction_percent=percent(baseline_promised - promised, baseline_promised),
        baseline_immediate_item_count=_immediate(baseline.values()),
        baseline_material_count=sum(len(v.materials) for v in baseline.values()),
        materials_cut=cut,
        delegated_item_count=delegated,
    )


def percent(part: int, whole: int) -> float:
    """part/whole as a percentage rounded half up to 2 decimals (75.625 -> 75.63); 0 when whole is 0."""
    if whole == 0:
        return 0.0
    value = Decimal(part) * 100 / Decimal(whole)
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def describe_reform(stats: ReformStats) -> str:
    """The sentence a centre puts in its report."""
    parts = [
        f"在办{stats.item_count}项事项法定时限合计{stats.statutory_working_days_total}个工作日，"
        f"承诺时限合计{stats.promised_working_days_total}个工作日，"
        f"压缩率{stats.compression_rate_percent:.2f}%"
    ]
    if stats.baseline_item_count:
        parts.append(
            f"总承诺时限由{stats.baseline_promised_working_days_total}个工作日压缩至"
            f"{stats.promised_working_days_total}个工作日，共压缩{stats.promised_reduction_working_days}个工作日，"
            f"总压缩率为{stats.promised_reduction_percent:.2f}%"
        )
        parts.append(f"即办件由{stats.baseline_immediate_item_count}项增加到{stats.immediate_item_count}项")
        parts.append(f"累计削减申报材料{stats.materials_cut}项，下放事项{stats.delegated_item_count}项")
    return "；".join(parts) + "。"


def _by_code(versions: Iterable[ItemVersionData]) -> dict[str, ItemVersionData]:
    return {v.implementation_code: v for v in versions if v.status is ItemStatus.published}


def _material_codes(version: ItemVersionData) -> set[str]:
    return {m.code for m in version.materials}


def _immediate(versions: Iterable[ItemVersionData]) -> int:
    return sum(1 for v in versions if v.kind is ItemKind.immediate)
