"""Number analysis: what a dialled string is (SPEC §1)."""

from denwa.core.numbering.analysis import NumberAnalysis, analyse
from denwa.core.numbering.classes import CallClass, Direction, Privacy, Problem
from denwa.core.numbering.ranges import RangeEntry, RangeTable

__all__ = [
    "CallClass",
    "Direction",
    "NumberAnalysis",
    "Privacy",
    "Problem",
    "RangeEntry",
    "RangeTable",
    "analyse",
]
