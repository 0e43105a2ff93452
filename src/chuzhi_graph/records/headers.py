"""Column names of the record tables: the English names, their Chinese aliases, and suggestions.

A spreadsheet saved by a Chinese-speaking curator may name its columns in Chinese (编号, 届次,
类别 …): every column has one or more documented Chinese names (``docs/records.md``), read as
the English one. Names are compared after NFKC folding and trimming (full-width letters, spaces).
An unknown or missing column is answered with the columns found and the nearest known name.

>>> resolve_header("cases", ["编号", "届次", "类别", "序号", "标题", "申报单位", "领域"])
['id', 'edition', 'category', 'position', 'title_zh', 'applicants', 'domains']
>>> nearest("cases", "titel_zh")
'title_zh'
"""

from __future__ import annotations

import unicodedata

#: table -> English column -> its Chinese names (the first is the one docs/records.md shows first)
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "sources": {
        "id": ("编号",), "file": ("文件",), "title": ("标题",), "publisher": ("发布者", "发布单位"),
        "issued": ("发布日期",), "author": ("作者",), "url": ("网址", "链接"), "captured_from": ("采集自",),
        "reliability": ("可靠性",),
    },
    "regions": {
        "code": ("代码", "区划代码"), "name_zh": ("名称", "中文名称"), "level": ("级别",),
        "name_en": ("英文名称",), "parent": ("上级",),
    },
    "units": {
        "id": ("编号",), "name_zh": ("名称", "单位名称"), "type": ("类型", "单位类型"), "name_en": ("英文名称",),
        "type_basis": ("类型依据",), "region": ("地区", "区划代码"), "region_basis": ("地区依据",),
        "parent": ("上级单位",), "parent_basis": ("上级依据",), "aliases": ("别名",), "alias_basis": ("别名依据",),
        "source": ("来源",), "source_line": ("来源行",), "note": ("备注",), "name_basis": ("名称依据",),
    },
    "editions": {
        "id": ("编号",), "track": ("赛道",), "year": ("年份",), "title_zh": ("标题", "名称"),
        "title_en": ("英文标题",), "launched": ("启动",), "meeting_date": ("会议日期", "颁奖日期"),
        "meeting_place": ("会议地点",), "announced": ("公布日期",), "organisers": ("主办单位", "主办"),
        "co_organisers": ("协办单位", "协办"), "submissions": ("申报数",), "online_vote": ("网络投票数",),
        "awarded": ("获奖数",), "source": ("来源",), "source_line": ("来源行",), "event": ("活动",),
        "announced_text": ("公布时间",), "complete": ("完整",), "run_by": ("承办单位", "承办"),
        "call_source": ("征集来源",), "call_source_line": ("征集来源行",), "note": ("备注",),
        "result_title": ("结果标题",), "launched_line": ("启动来源行",), "announced_line": ("公布来源行",),
    },
    "categories": {
        "id": ("编号",), "edition": ("届次",), "position": ("序号",), "label_zh": ("名称", "类别名称"),
        "label_en": ("英文名称",), "stated_count": ("公布数量",), "source_line": ("来源行",),
    },
    "cases": {
        "id": ("编号",), "edition": ("届次",), "category": ("类别",), "position": ("序号",),
        "title_zh": ("标题", "案例名称"), "applicants": ("申报单位",), "domains": ("领域",),
        "title_en": ("英文标题",), "domain_basis": ("领域依据",), "source": ("来源",), "source_line": ("来源行",),
    },
}


def fold(name: str) -> str:
    """A column name as compared: NFKC (full-width to half-width), trimmed."""
    return unicodedata.normalize("NFKC", name).strip()


def _names(table: str) -> dict[str, str]:
    """Every accepted spelling of the columns of ``table`` -> its English name."""
    out: dict[str, str] = {}
    for column, chinese in ALIASES[table].items():
        out[column] = column
        for alias in chinese:
            out[fold(alias)] = column
    return out


def column_of(table: str, name: str) -> str | None:
    """The English column a header cell names (itself or a Chinese alias), or None.

    >>> column_of("cases", "届次"), column_of("cases", "edition"), column_of("cases", "年份")
    ('edition', 'edition', None)
    """
    return _names(table).get(fold(name))


def resolve_header(table: str, header: list[str]) -> list[str]:
    """The header with every known name (English or Chinese) written in English; unknown ones kept."""
    names = _names(table)
    return [names.get(fold(h), fold(h)) if h.strip() else "" for h in header]


def nearest(table: str, name: str, among: list[str] | None = None) -> str | None:
    """The known column name (English or Chinese) nearest to ``name``, or None if none is close.

    ``among`` restricts the candidates (e.g. to the missing columns).
    """
    from rapidfuzz import fuzz, process

    candidates = among if among is not None else list(_names(table))
    match = process.extractOne(fold(name), candidates, scorer=fuzz.ratio, score_cutoff=60)
    return None if match is None else str(match[0])


def spelled(table: str, column: str) -> str:
    """A column with its Chinese names, for messages: ``title_zh (标题, 案例名称)``."""
    chinese = ALIASES[table].get(column, ())
    return f"{column} ({', '.join(chinese)})" if chinese else column
