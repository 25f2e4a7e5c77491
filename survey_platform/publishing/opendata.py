"""A release's open data: CSV (UTF-8 with BOM, one per table), one XLSX (a sheet per table), one JSON, and a
Frictionless Data Package descriptor (``datapackage.json``, https://specs.frictionlessdata.io/data-package/).

Pure: results in, file bytes out. What is public:

- only figures and the names the release publishes (cities, provinces, venue names and categories of named
  businesses); no free text (no notes, comments, interviewer or inspector text, no answers);
- text that a spreadsheet would run as a formula gets a leading apostrophe in the CSV files (the XLSX writes
  every text as a string);
- small-sample suppression: the figures of a group with fewer than ``method.suppression_min_n`` units
  (interviews or venues) are left empty and the row's ``suppressed`` column is ``true``; an empty cell is declared
  missing (``missingValues: [""]``), never zero.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import xlsxwriter

from survey_platform.spreadsheet import FORMULA_START

from .model import ReleaseResults

__all__ = ["TABLES", "OpenDataMeta", "open_data_files", "tables"]


class OpenDataMeta(msgspec.Struct, frozen=True, kw_only=True):
    """What the package says about itself: the release, its campaign and questionnaire, when it was made, its
    fingerprints and the licence."""

    release_id: str
    created: str  # ISO 8601 date-time with offset (a bare date is read as midnight UTC)
    software_version: str
    licence_name: str = "CC-BY-4.0"
    licence_title: str = "知识共享 署名 4.0 国际 / Creative Commons Attribution 4.0 International"
    licence_path: str = "https://creativecommons.org/licenses/by/4.0/"
    publisher: str = ""


@dataclass(frozen=True)
class Column:
    """A public column: name, Frictionless type, bilingual description, and how to read it from a row."""

    name: str
    type: str  # string, integer, number, boolean
    description: str
    get: Callable[[Any], Any]
    figure: bool = False  # suppressed when the row's group is too small


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]


def _c(name: str, type_: str, description: str, get: Callable[[Any], Any], figure: bool = False) -> Column:
    return Column(name, type_, description, get, figure)


def _change(row: Any, attr: str) -> Any:
    change = row.change
    return None if change is None else getattr(change, attr)


_FIG = (
    ("score", "得分（0–100） / score (0–100)"),
    ("se", "标准误 / standard error"),
    ("ci_low", "置信区间下限 / lower bound of the confidence interval"),
    ("ci_high", "置信区间上限 / upper bound of the confidence interval"),
)


def _figure_columns(path: Callable[[Any], Any]) -> tuple[Column, ...]:
    return tuple(
        _c(name, "number", text, lambda r, n=name: getattr(path(r), n), figure=True) for name, text in _FIG
    )


SUPPRESSED = _c(
    "suppressed",
    "boolean",
    "小样本抑制：为 true 时本行的估计值留空 / small-sample suppression: when true, this row's figures are empty",
    lambda r: None,  # filled by the writer
)

TABLES: dict[str, Table] = {
    "national": Table(
        "national",
        "全国得分：综合指数、各维度和各指标 / national figures: the index, every dimension and indicator",
        (
            _c("node", "string", "指标代码 / indicator code", lambda r: r.node),
            _c(
                "level",
                "string",
                "层级：root/dimension/indicator / level of the index tree",
                lambda r: r.level,
            ),
            _c("label_zh", "string", "指标名称（中文） / indicator name (Chinese)", lambda r: r.label_zh),
            _c("label_en", "string", "指标名称（英文） / indicator name (English)", lambda r: r.label_en),
            _c("n_cities", "integer", "参与计算的城市数 / cities in the figure", lambda r: r.n_cities),
            *_figure_columns(lambda r: r.figure),
            _c(
                "change",
                "number",
                "较上期变化 / change since the previous release",
                lambda r: _change(r, "difference"),
                True,
            ),
            _c(
                "change_ci_low",
                "number",
                "变化的置信区间下限 / lower bound of the change",
                lambda r: _change(r, "ci_low"),
                True,
            ),
            _c(
                "change_ci_high",
                "number",
                "变化的置信区间上限 / upper bound of the change",
                lambda r: _change(r, "ci_high"),
                True,
            ),
            _c(
                "change_significant",
                "boolean",
                "变化是否显著 / whether the change is significant",
                lambda r: _change(r, "significant"),
                True,
            ),
        ),
    ),
    "cities": Table(
        "cities",
        "城市得分、排名与排名置信区间 / city scores, ranks and rank confidence sets",
        (
            _c("city", "string", "城市代码 / city code", lambda r: r.city),
            _c("name_zh", "string", "城市名称（中文） / city name (Chinese)", lambda r: r.name_zh),
            _c("name_en", "string", "城市名称（英文） / city name (English)", lambda r: r.name_en),
            _c("province", "string", "省份 / province", lambda r: r.province),
            _c("population", "integer", "常住人口 / resident population", lambda r: r.population),
            _c("n", "integer", "有效样本量 / valid interviews", lambda r: r.n),
            _c(
                "n_effective",
                "number",
                "有效样本量（Kish） / Kish effective sample size",
                lambda r: r.n_effective,
                True,
            ),
            _c(
                "weighting",
                "string",
                "加权方式：raked / equal_weights_no_margins / no_data / weighting",
                lambda r: r.weighting,
            ),
            *_figure_columns(lambda r: r.score),
            _c("ranked", "boolean", "是否参与排名 / whether the city is ranked", lambda r: r.ranked),
            _c("rank", "integer", "名次 / point rank", lambda r: r.rank, True),
            _c(
                "rank_low",
                "integer",
                "名次置信区间下限（单个城市） / marginal rank set, best",
                lambda r: r.rank_low,
                True,
            ),
            _c(
                "rank_high",
                "integer",
                "名次置信区间上限（单个城市） / marginal rank set, worst",
                lambda r: r.rank_high,
                True,
            ),
            _c(
                "rank_sim_low",
                "integer",
                "名次联合置信区间下限 / simultaneous rank set, best",
                lambda r: r.rank_sim_low,
                True,
            ),
            _c(
                "rank_sim_high",
                "integer",
                "名次联合置信区间上限 / simultaneous rank set, worst",
                lambda r: r.rank_sim_high,
                True,
            ),
            _c("tier", "integer", "梯队 / tier", lambda r: r.tier, True),
            _c(
                "change",
                "number",
                "较上期变化 / change since the previous release",
                lambda r: _change(r, "difference"),
                True,
            ),
            _c(
                "change_se",
                "number",
                "变化的标准误 / standard error of the change",
                lambda r: _change(r, "se"),
                True,
            ),
            _c(
                "change_significant",
                "boolean",
                "变化是否显著 / whether the change is significant",
                lambda r: _change(r, "significant"),
                True,
            ),
            _c(
                "collected",
                "integer",
                "收集的访问数 / interviews collected",
                lambda r: r.exclusions.collected,
            ),
            _c("screened_out", "integer", "甄别不合格数 / screened out", lambda r: r.exclusions.screened_out),
            _c(
                "excluded_by_review",
                "integer",
                "审核剔除数 / excluded by review",
                lambda r: r.exclusions.excluded_by_review,
            ),
            _c(
                "exclusion_rate",
                "number",
                "审核剔除率 / exclusion rate among eligible interviews",
                lambda r: r.exclusions.exclusion_rate,
            ),
        ),
    ),
    "city_indicators": Table(
        "city_indicators",
        "城市 × 维度/指标（长表），与全国比较（Holm 校正） / city × dimension/indicator (long form) against the national figure (Holm-adjusted)",
        (
            _c("city", "string", "城市代码 / city code", lambda r: r[0]),
            _c("node", "string", "指标代码 / indicator code", lambda r: r[1].node),
            _c("level", "string", "层级 / level", lambda r: r[1].level),
            _c("n", "integer", "有得分的受访者数 / respondents with a score", lambda r: r[1].n),
            *_figure_columns(lambda r: r[1].figure),
            _c("national", "number", "全国得分 / national figure", lambda r: r[1].national),
            _c(
                "difference",
                "number",
                "与全国之差 / difference from the national figure",
                lambda r: r[1].difference,
                True,
            ),
            _c("p_holm", "number", "Holm 校正 p 值 / Holm-adjusted p-value", lambda r: r[1].p_holm, True),
            _c(
                "verdict",
                "string",
                "显著高于/低于/无显著差异 / above, below, not_significant",
                lambda r: r[1].verdict,
                True,
            ),
        ),
    ),
    "provinces": Table(
        "provinces",
        "省份得分（按城市人口加权）及省份间名次 / province figures (cities weighted by population) and their standing",
        (
            _c("province", "string", "省份 / province", lambda r: r.province),
            _c("n_cities", "integer", "城市数 / cities", lambda r: len(r.cities)),
            _c("n", "integer", "有效样本量 / valid interviews", lambda r: r.n),
            *_figure_columns(lambda r: r.figure),
            _c("rank", "integer", "省份名次 / rank among provinces", lambda r: r.rank, True),
            _c("rank_low", "integer", "名次置信区间下限 / rank set, best", lambda r: r.rank_low, True),
            _c("rank_high", "integer", "名次置信区间上限 / rank set, worst", lambda r: r.rank_high, True),
        ),
    ),
    "inspection_rates": Table(
        "inspection_rates",
        "问题率（Wilson 区间）：总体、按城市、按场所类别 / problem rates (Wilson intervals): overall, by city, by venue category",
        (
            _c("grouping", "string", "分组：all/city/category / grouping", lambda r: r[0]),
            _c("group", "string", "组代码 / group code", lambda r: r[1].group),
            _c("label_zh", "string", "组名称（中文） / group name (Chinese)", lambda r: r[1].label_zh),
            _c("label_en", "string", "组名称（英文） / group name (English)", lambda r: r[1].label_en),
            _c("n", "integer", "检查场所数 / venues inspected", lambda r: r[1].n),
            _c(
                "problems", "integer", "有问题的场所数 / venues with a problem", lambda r: r[1].problems, True
            ),
            _c("rate", "number", "问题率 / problem rate", lambda r: r[1].rate, True),
            _c("ci_low", "number", "区间下限 / lower bound", lambda r: r[1].ci_low, True),
            _c("ci_high", "number", "区间上限 / upper bound", lambda r: r[1].ci_high, True),
        ),
    ),
    "inspection_checks": Table(
        "inspection_checks",
        "各检查项的不合格数 / failures per check",
        (
            _c("check", "string", "检查项代码 / check code", lambda r: r.check),
            _c("label_zh", "string", "检查项（中文） / check (Chinese)", lambda r: r.label_zh),
            _c("label_en", "string", "检查项（英文） / check (English)", lambda r: r.label_en),
            _c("severity", "string", "严重程度：critical/major/minor / severity", lambda r: r.severity),
            _c("n_applicable", "integer", "适用的场所数 / venues where it applied", lambda r: r.n_applicable),
            _c("n_failed", "integer", "不合格数 / failures", lambda r: r.n_failed, True),
            _c("fail_rate", "number", "不合格率 / failure rate", lambda r: r.fail_rate, True),
        ),
    ),
    "named_venues": Table(
        "named_venues",
        "点名的问题场所（已审核） / named problem venues (approved audits)",
        (
            _c("venue_id", "string", "场所编号 / venue id", lambda r: r.venue_id),
            _c("venue_name", "string", "场所名称 / venue name", lambda r: r.venue_name),
            _c("city", "string", "城市代码 / city code", lambda r: r.city),
            _c("category", "string", "场所类别 / venue category", lambda r: r.category),
            _c("score", "number", "合规得分（0–100） / compliance score (0–100)", lambda r: r.score),
            _c(
                "any_critical", "boolean", "是否有严重问题 / any critical violation", lambda r: r.any_critical
            ),
            _c(
                "failed_checks",
                "string",
                "不合格检查项代码（分号分隔） / failed checks (semicolon-separated codes)",
                lambda r: ";".join(f.check for f in r.failed),
            ),
            _c(
                "legal_basis",
                "string",
                "法律依据代码（分号分隔） / legal basis (semicolon-separated codes)",
                lambda r: ";".join(dict.fromkeys(b.id for f in r.failed for b in f.legal_basis)),
            ),
            _c("approved_at", "date", "审核通过日期 / approval date", lambda r: r.approved_at),
            _c("follow_up", "string", "回头看状态 / follow-up status", lambda r: r.follow_up),
            _c("follow_up_date", "date", "回头看日期 / follow-up date", lambda r: r.follow_up_date),
        ),
    ),
}


def tables(results: ReleaseResults) -> dict[str, list[dict[str, Any]]]:
    """The public tables of a release (name → rows of plain values, suppression applied)."""
    labels = {node.id: (node.label_zh, node.label_en) for node in results.tree}
    min_n = results.method.suppression_min_n
    rows: dict[str, list[tuple[Any, int]]] = {}  # table → (row object, group size)
    if results.national is not None:
        rows["national"] = [
            (_Labelled(n, *labels.get(n.node, (n.node, n.node))), results.national.n)
            for n in results.national.nodes
        ]
        rows["cities"] = [(c, c.n) for c in results.cities]
        rows["city_indicators"] = [((c.city, node), node.n) for c in results.cities for node in c.nodes]
        rows["provinces"] = [(p, p.n) for p in results.provinces]
    if results.inspections is not None:
        insp = results.inspections
        rows["inspection_rates"] = [(("all", insp.overall), insp.overall.n)]
        rows["inspection_rates"] += [(("city", r), r.n) for r in insp.by_city]
        rows["inspection_rates"] += [(("category", r), r.n) for r in insp.by_category]
        rows["inspection_checks"] = [(c, c.n_applicable) for c in insp.checks]
        rows["named_venues"] = [(v, min_n) for v in insp.named]  # individual findings: never suppressed
    out: dict[str, list[dict[str, Any]]] = {}
    for name, items in rows.items():
        table = TABLES[name]
        out[name] = []
        for obj, size in items:
            suppressed = size < min_n
            row = {
                col.name: (None if suppressed and col.figure else _plain(col.get(obj)))
                for col in table.columns
            }
            row["suppressed"] = suppressed
            out[name].append(row)
    return out


class _Labelled:
    """A national NodeFigure with the node's labels."""

    def __init__(self, node: Any, label_zh: str, label_en: str) -> None:
        self._node = node
        self.label_zh = label_zh
        self.label_en = label_en

    def __getattr__(self, name: str) -> Any:
        return getattr(self._node, name)


def open_data_files(meta: OpenDataMeta, results: ReleaseResults) -> dict[str, bytes]:
    """File name → bytes: ``{table}.csv`` per table, ``release.xlsx``, ``release.json`` and ``datapackage.json``."""
    data = tables(results)
    files: dict[str, bytes] = {}
    for name, rows in data.items():
        files[f"{name}.csv"] = _csv(TABLES[name], rows)
    files["release.xlsx"] = _xlsx(meta, results, data)
    files["release.json"] = msgspec.json.encode(
        {"release": _about(meta, results), "tables": data}, order="deterministic"
    )
    files["datapackage.json"] = msgspec.json.format(
        msgspec.json.encode(_descriptor(meta, results, list(data)), order="deterministic"), indent=2
    )
    return files


def _columns(table: Table) -> Sequence[Column]:
    return (*table.columns, SUPPRESSED)


def _csv(table: Table, rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    names = [c.name for c in _columns(table)]
    writer.writerow(names)
    for row in rows:
        writer.writerow([_cell(row[n]) for n in names])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _cell(value: Any) -> str:
    """CSV text: empty for missing, true/false, shortest round-trip floats; text that a spreadsheet would run as
    a formula gets a leading apostrophe (the platform's export rule, ``spreadsheet.FORMULA_START``)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_START) else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _about(meta: OpenDataMeta, results: ReleaseResults) -> dict[str, Any]:
    return {
        "release": meta.release_id,
        "created": meta.created,
        "software_version": meta.software_version,
        "campaign": results.campaign_code,
        "campaign_name": results.campaign_name,
        "questionnaire": results.questionnaire_id,
        "questionnaire_version": results.questionnaire_version,
        "questionnaire_hash": results.questionnaire_hash,
        "inputs_fingerprint": results.fingerprint,
        "seed": results.method.seed,
        "suppression_min_n": results.method.suppression_min_n,
        "licence": meta.licence_name,
    }


def _xlsx(meta: OpenDataMeta, results: ReleaseResults, data: dict[str, list[dict[str, Any]]]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    book.set_properties({"title": results.campaign_name, "comments": meta.release_id, "created": None})
    bold = book.add_format({"bold": True})
    about = book.add_worksheet("about")
    for i, (key, value) in enumerate(_about(meta, results).items()):
        about.write_string(i, 0, key, bold)
        about.write(i, 1, value)
    for name, rows in data.items():
        sheet = book.add_worksheet(name[:31])
        columns = _columns(TABLES[name])
        for j, col in enumerate(columns):
            sheet.write_string(0, j, col.name, bold)
        for i, row in enumerate(rows, start=1):
            for j, col in enumerate(columns):
                value = row[col.name]
                if value is None:
                    continue
                if isinstance(value, str):
                    sheet.write_string(i, j, value)
                else:
                    sheet.write(i, j, value)
        sheet.freeze_panes(1, 0)
    book.close()
    return buffer.getvalue()


def _descriptor(meta: OpenDataMeta, results: ReleaseResults, names: list[str]) -> dict[str, Any]:
    resources: list[dict[str, Any]] = []
    for name in names:
        table = TABLES[name]
        resources.append(
            {
                "name": name,
                "path": f"{name}.csv",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8-sig",
                "description": table.description,
                "schema": {
                    "fields": [
                        {"name": c.name, "type": c.type, "description": c.description}
                        for c in _columns(table)
                    ],
                    "missingValues": [""],
                },
            }
        )
    resources.append(
        {
            "name": "release-xlsx",
            "type": "file",
            "path": "release.xlsx",
            "format": "xlsx",
            "mediatype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "description": "以上各表的 Excel 版本（每表一个工作表，另有 about 表） / the tables above as one workbook "
            "(a sheet per table, plus an 'about' sheet)",
        }
    )
    resources.append(
        {
            "name": "release-json",
            "type": "file",
            "path": "release.json",
            "format": "json",
            "mediatype": "application/json",
            "description": "以上各表的 JSON 版本 / the tables above as JSON: {release, tables: {name: [rows]}}",
        }
    )
    return {
        "profile": "data-package",
        "name": f"release-{meta.release_id}".lower(),
        "title": results.campaign_name,
        "description": (
            f"{results.campaign_name}：发布 {meta.release_id} 的开放数据。样本量低于 "
            f"{results.method.suppression_min_n} 的组，其估计值留空且 suppressed 为 true（不是 0）。/ Open data of "
            f"release {meta.release_id}. Figures of groups with fewer than {results.method.suppression_min_n} units "
            "are empty and marked suppressed = true (never 0). In the CSV files, text that starts like a spreadsheet "
            "formula (= + - @) has a leading apostrophe."
        ),
        "created": meta.created if "T" in meta.created else f"{meta.created}T00:00:00Z",  # RFC 3339 date-time
        "version": meta.release_id,
        "licenses": [{"name": meta.licence_name, "title": meta.licence_title, "path": meta.licence_path}],
        "sources": [{"title": f"questionnaire {results.questionnaire_id} {results.questionnaire_version}"}],
        "keywords": ["consumer satisfaction", "消费者满意度", results.campaign_kind],
        "resources": resources,
        "x_release": _about(meta, results),
    }
