"""From the structurally-read YAML (:mod:`.read`) to the typed :class:`~.model.Questionnaire`, checking
everything that needs the whole file: duplicate ids, references (scales, choice lists, legal basis, evidence,
expression references, index items), expression syntax and types, cycles, the index tree and its weights.

Every problem is collected with its line and column; the model is built only when there are none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .expr import ExprError, compile_expr, references
from .model import (
    EXPR_TYPES,
    Check,
    Choice,
    ChoiceList,
    Expression,
    Index,
    IndexNode,
    Label,
    LegalBasis,
    MatrixItem,
    Question,
    Questionnaire,
    Scale,
    Section,
)
from .read import Obj, Reader, Seq, did_you_mean
from .yamlsrc import pos

MAX_SCALE_POINTS = 101
Pos = tuple[int, int]


@dataclass
class _ExprSite:
    """An expression found in the file, waiting to be compiled."""

    owner: str  # question id (or section id for a section's relevant)
    key: str  # relevant, constraint, screen, calculation
    source: str
    obj: Obj  # the mapping holding it (for positions)
    is_section: bool = False
    compiled: Any = None


@dataclass
class _Draft:
    """A question before its expressions are compiled."""

    obj: Obj
    kwargs: dict[str, Any]
    section: str
    exprs: dict[str, _ExprSite] = field(default_factory=dict)


class Builder:
    """Builds one questionnaire from its root :class:`Obj`; problems go to the reader's list."""

    def __init__(self, reader: Reader, root: Obj, content_hash: str) -> None:
        self.reader = reader
        self.root = root
        self.content_hash = content_hash
        self.languages: tuple[str, ...] = ("zh-CN",)
        self.scales: dict[str, Scale] = {}
        self.choice_lists: dict[str, ChoiceList] = {}
        self.legal: dict[str, LegalBasis] = {}
        self.drafts: dict[str, _Draft] = {}
        self.item_owner: dict[str, str] = {}  # matrix item id -> matrix question id
        self.id_pos: dict[str, Pos] = {}  # question and matrix item ids -> position of their id
        self.section_exprs: dict[str, _ExprSite] = {}
        self.sections: list[tuple[Obj, str]] = []
        self.types: dict[str, str] = {}  # expression type of every referable id

    def error(self, where: Pos, message: str) -> None:
        self.reader.error(where, message)

    # -- labels --------------------------------------------------------------------------------------------------
    def label(self, value: object) -> Label | None:
        if value is None or value is False:
            return None
        default = self.languages[0]
        if isinstance(value, str):
            return Label(((default, value),))
        assert isinstance(value, Obj)
        for language in value:
            if language not in self.languages:
                self.error(
                    value.key_pos(language),
                    f"language '{language}' is not in languages ({', '.join(self.languages)})",
                )
        if default not in value:
            self.error(value.pos(), f"text in the default language '{default}' is missing")
            return None
        ordered = [(lang, value[lang]) for lang in self.languages if lang in value]
        return Label(tuple(ordered))

    # -- top level -----------------------------------------------------------------------------------------------
    def build(self) -> Questionnaire | None:
        root = self.root
        languages = root.get("languages")
        if isinstance(languages, Seq) and languages:
            seen: dict[str, int] = {}
            for language, node in zip(languages, languages.nodes, strict=True):
                if language in seen:
                    self.error(pos(node), f"duplicate language '{language}'")
                seen.setdefault(language, 0)
            self.languages = tuple(seen)
        title = self.label(root.get("title"))
        description = self.label(root.get("description"))
        for list_id, choices in (root.get("choice_lists") or {}).items():
            self.choice_lists[list_id] = self.choice_list(list_id, choices)
        for scale_id, scale in (root.get("scales") or {}).items():
            built = self.scale(scale_id, scale)
            if built is not None:
                self.scales[scale_id] = built
        for legal_id, entry in (root.get("legal_basis") or {}).items():
            law, article = self.label(entry.get("law")), self.label(entry.get("article"))
            if law is not None and article is not None:
                self.legal[legal_id] = LegalBasis(legal_id, law, article, self.label(entry.get("summary")))
        defaults = root.get("defaults") or {}
        required_default = bool(defaults.get("required", False))

        section_ids: dict[str, Pos] = {}
        for section in root.get("sections") or ():
            if "id" not in section:
                continue
            section_id = section["id"]
            if section_id in section_ids:
                self.error(
                    section.pos("id"),
                    f"duplicate section id '{section_id}' (first at line {section_ids[section_id][0]})",
                )
            section_ids.setdefault(section_id, section.pos("id"))
            self.sections.append((section, section_id))
            if "relevant" in section:
                self.section_exprs[section_id] = _ExprSite(
                    section_id, "relevant", section["relevant"], section, is_section=True
                )
            for question in section.get("questions") or ():
                self.question(question, section_id, required_default)
        for section_id in section_ids:
            if section_id in self.id_pos:
                self.error(section_ids[section_id], f"section id '{section_id}' is also a question id")

        self.check_checks()
        self.compile_expressions()
        index = self.index(root.get("index")) if "index" in root else None
        if self.reader.problems or title is None:
            return None
        return self.assemble(title, description, index)

    def choice_list(self, list_id: str, choices: Seq) -> ChoiceList:
        built: list[Choice] = []
        seen: dict[str, Pos] = {}
        for choice in choices:
            if "code" not in choice or "label" not in choice:
                continue
            code = choice["code"]
            if code in seen:
                self.error(
                    choice.pos("code"),
                    f"duplicate choice code '{code}' in choice list '{list_id}' "
                    f"(first at line {seen[code][0]})",
                )
                continue
            seen[code] = choice.pos("code")
            label = self.label(choice["label"])
            if label is not None:
                score = choice.get("score")
                built.append(Choice(code, label, None if score is None else float(score)))
        scored = [choice for choice in choices if "score" in choice]
        if scored and len(scored) != len(choices):
            first = next(choice for choice in choices if "score" not in choice)
            self.error(
                first.pos(), f"choice list '{list_id}': every choice needs a score once one has a score"
            )
        return ChoiceList(list_id, tuple(built))

    def scale(self, scale_id: str, scale: Obj) -> Scale | None:
        if "min" not in scale or "max" not in scale:
            return None
        low, high = scale["min"], scale["max"]
        if high <= low:
            self.error(scale.pos("max"), f"scale '{scale_id}': max ({high}) must be greater than min ({low})")
            return None
        if high - low + 1 > MAX_SCALE_POINTS:
            self.error(scale.pos("max"), f"scale '{scale_id}' has more than {MAX_SCALE_POINTS} points")
            return None
        labels: list[tuple[int, Label]] = []
        for point, text in (scale.get("labels") or {}).items():
            if not low <= point <= high:
                self.error(
                    scale["labels"].key_pos(point),
                    f"scale '{scale_id}': label for point {point} outside {low}..{high}",
                )
                continue
            label = self.label(text)
            if label is not None:
                labels.append((point, label))
        points = {point for point, _ in labels}
        if "labels" not in scale or low not in points or high not in points:
            where = scale.pos("labels") if "labels" in scale else scale.pos()
            self.error(where, f"scale '{scale_id}' must label both ends ({low} and {high})")
        missing: list[Choice] = []
        seen: set[str] = set()
        for entry in scale.get("missing") or ():
            if "code" not in entry or "label" not in entry:
                continue
            if entry["code"] in seen:
                self.error(
                    entry.pos("code"),
                    f"duplicate missing-answer code '{entry['code']}' in scale '{scale_id}'",
                )
                continue
            seen.add(entry["code"])
            label = self.label(entry["label"])
            if label is not None:
                missing.append(Choice(entry["code"], label))
        return Scale(scale_id, low, high, tuple(sorted(labels)), tuple(missing))

    # -- questions -----------------------------------------------------------------------------------------------
    def register(self, item_id: str, where: Pos) -> bool:
        if item_id in self.id_pos:
            self.error(where, f"duplicate id '{item_id}' (first at line {self.id_pos[item_id][0]})")
            return False
        self.id_pos[item_id] = where
        return True

    def question(self, q: Obj, section_id: str, required_default: bool) -> None:
        if "id" not in q or "type" not in q:
            return
        qid, qtype = q["id"], q["type"]
        if not self.register(qid, q.pos("id")):
            return
        kwargs: dict[str, Any] = {
            "id": qid,
            "type": qtype,
            "section": section_id,
            "label": self.label(q.get("label")),
            "hint": self.label(q.get("hint")),
        }
        if qtype not in ("note", "calculate"):
            kwargs["required"] = q.get("required", required_default)
        for key in ("constraint_message", "screen_message", "unit"):
            if key in q:
                kwargs[key] = self.label(q[key])
        for key in (
            "weighting_variable",
            "in_index",
            "reverse",
            "multiline",
            "max_length",
            "min_selected",
            "max_selected",
            "max_accuracy",
            "min_count",
            "max_count",
        ):
            if key in q:
                kwargs[key] = q[key]
        draft = _Draft(q, kwargs, section_id)
        for key in ("relevant", "constraint", "screen", "calculation"):
            if key in q:
                draft.exprs[key] = _ExprSite(qid, key, q[key], q)
        self.drafts[qid] = draft
        if "scale" in q:
            kwargs["scale"] = self.scale_ref(q, qid)
        if "choices" in q:
            kwargs["choices"] = self.choices_ref(q, qid)
        if qtype == "matrix":
            kwargs["items"] = self.matrix_items(q, qid)
        if "check" in q:
            kwargs["check"] = self.check(q["check"])
        self.bounds(q, qid, kwargs)
        if "screen" in q and not kwargs.get("required"):
            self.error(q.pos("screen"), f"screening question '{qid}' must be required")

    def declared(self, key: str, name: str) -> bool:
        """Whether ``name`` is a key of the top-level map ``key`` (even one whose value was invalid)."""
        table = self.root.get(key)
        return isinstance(table, Obj) and name in table.key_nodes

    def scale_ref(self, q: Obj, qid: str) -> Scale | None:
        ref = q["scale"]
        if isinstance(ref, str):
            if ref not in self.scales:
                if not self.declared("scales", ref):  # (an invalid scale is reported already)
                    self.error(q.pos("scale"), f"unknown scale '{ref}'{did_you_mean(ref, self.scales)}")
                return None
            return self.scales[ref]
        return self.scale(qid, ref)

    def choices_ref(self, q: Obj, qid: str) -> ChoiceList | None:
        ref = q["choices"]
        if isinstance(ref, str):
            if ref not in self.choice_lists:
                if not self.declared("choice_lists", ref):
                    hint = did_you_mean(ref, self.choice_lists)
                    self.error(q.pos("choices"), f"unknown choice list '{ref}'{hint}")
                return None
            return self.choice_lists[ref]
        return self.choice_list(qid, ref)

    def matrix_items(self, q: Obj, qid: str) -> tuple[MatrixItem, ...]:
        items: list[MatrixItem] = []
        for item in q.get("items") or ():
            if "id" not in item or not self.register(item["id"], item.pos("id")):
                continue
            self.item_owner[item["id"]] = qid
            label = self.label(item.get("label"))
            if label is not None:
                items.append(
                    MatrixItem(
                        item["id"],
                        label,
                        self.label(item.get("hint")),
                        item.get("reverse", False),
                        item.get("in_index", True),
                    )
                )
        return tuple(items)

    def check(self, check: Obj) -> Check | None:
        bases = check.get("legal_basis")
        if isinstance(bases, Seq):
            for legal_id, node in zip(bases, bases.nodes, strict=True):
                if legal_id not in self.legal and not self.declared("legal_basis", legal_id):
                    self.error(
                        pos(node), f"unknown legal basis '{legal_id}'{did_you_mean(legal_id, self.legal)}"
                    )
        if "pass_if" not in check or "severity" not in check:
            return None
        return Check(
            check["pass_if"],
            check["severity"],
            tuple(check.get("legal_basis") or ()),
            check.get("evidence"),
            self.label(check.get("recommendation")),
        )

    def bounds(self, q: Obj, qid: str, kwargs: dict[str, Any]) -> None:
        """Finite bounds, min <= max pairs, non-negative counts and positive sizes."""
        for key in ("min", "max", "max_accuracy"):
            value = q.get(key)
            if isinstance(value, float) and not math.isfinite(value):
                self.error(q.pos(key), f"'{key}' of question '{qid}' must be a finite number")
                return
        for low_key, high_key in (
            ("min", "max"),
            ("min_selected", "max_selected"),
            ("min_count", "max_count"),
        ):
            low, high = q.get(low_key), q.get(high_key)
            if low is not None and high is not None and low > high:
                self.error(
                    q.pos(high_key),
                    f"'{high_key}' ({high}) of question '{qid}' is less than '{low_key}' ({low})",
                )
        if "min" in q:
            kwargs["min"] = q["min"]
        if "max" in q:
            kwargs["max"] = q["max"]
        for key in ("min_selected", "max_selected", "min_count", "max_count"):
            if q.get(key, 0) < 0:
                self.error(q.pos(key), f"'{key}' of question '{qid}' must not be negative")
        for key in ("max_length", "max_accuracy"):
            if key in q and not q[key] > 0:
                self.error(q.pos(key), f"'{key}' of question '{qid}' must be greater than 0")
        choices = kwargs.get("choices")
        if choices is not None and q.get("max_selected", 0) > len(choices.choices):
            self.error(
                q.pos("max_selected"),
                f"'max_selected' of question '{qid}' exceeds the number of choices ({len(choices.choices)})",
            )

    def check_checks(self) -> None:
        """Evidence questions of inspection checks exist and are photo questions."""
        for qid, draft in self.drafts.items():
            check = draft.obj.get("check")
            if not isinstance(check, Obj) or "evidence" not in check:
                continue
            evidence = check["evidence"]
            target = self.drafts.get(evidence)
            if target is None:
                hint = did_you_mean(evidence, self.drafts)
                self.error(
                    check.pos("evidence"),
                    f"unknown evidence question '{evidence}' in the check of '{qid}'{hint}",
                )
            elif target.kwargs["type"] != "photo":
                self.error(
                    check.pos("evidence"),
                    f"evidence '{evidence}' of the check of '{qid}' must be a photo question, "
                    f"not {target.kwargs['type']}",
                )

    # -- expressions ---------------------------------------------------------------------------------------------
    def dependencies(self) -> dict[str, list[tuple[str, _ExprSite]]]:
        """Question id -> [(referenced id, expression site)] through relevant and calculation expressions.

        Constraints and screens are left out: they decide whether an answer is accepted, never a value or a
        relevance, so a constraint that refers to a later question that refers back is not a cycle.
        """
        graph: dict[str, list[tuple[str, _ExprSite]]] = {}
        for qid, draft in self.drafts.items():
            edges: list[tuple[str, _ExprSite]] = []
            for site in (
                draft.exprs.get("relevant"),
                draft.exprs.get("calculation"),
                self.section_exprs.get(draft.section),
            ):
                if site is not None:
                    edges.extend((ref, site) for ref in sorted(_safe_references(site.source)))
            graph[qid] = edges
        for item_id, owner in self.item_owner.items():
            graph[item_id] = [(owner, _ExprSite(owner, "items", "", self.drafts[owner].obj))]
        return graph

    def find_cycles(self, graph: dict[str, list[tuple[str, _ExprSite]]]) -> set[str]:
        """Report every cycle once (at the reference that closes it, in its first question); returns its members."""
        order = {qid: n for n, qid in enumerate(graph)}
        state: dict[str, int] = {}  # 1: on the stack, 2: done
        stack: list[tuple[str, _ExprSite | None]] = []
        in_cycle: set[str] = set()

        def visit(node: str, via: _ExprSite | None) -> None:
            state[node] = 1
            stack.append((node, via))
            for ref, site in graph.get(node, ()):
                if ref not in graph:
                    continue
                if state.get(ref) == 1:
                    start = next(i for i, (n, _) in enumerate(stack) if n == ref)
                    members = [n for n, _ in stack[start:]]
                    if not in_cycle.intersection(members):
                        self.report_cycle(members, ref, site)
                    in_cycle.update(members)
                elif ref not in state:
                    visit(ref, site)
            stack.pop()
            state[node] = 2

        for qid in sorted(graph, key=order.__getitem__):
            if qid not in state:
                visit(qid, None)
        return in_cycle

    def report_cycle(self, members: list[str], closing: str, site: _ExprSite) -> None:
        path = " → ".join([*members, closing])
        # point at the reference inside the expression that closes the cycle
        where = self.site_pos(site, site.source.find("${" + closing + "}"))
        self.error(where, f"cycle in relevant/calculation: {path}")

    def site_pos(self, site: _ExprSite, offset: int) -> Pos:
        node = site.obj.nodes.get(site.key)
        if node is None:
            return site.obj.pos("id")
        if offset < 0:
            return pos(node)
        return self.reader.span(node).locate(site.source, offset)

    def compile_expressions(self) -> None:
        graph = self.dependencies()
        cyclic = self.find_cycles(graph)
        for qid, draft in self.drafts.items():
            expr_type = EXPR_TYPES[draft.kwargs["type"]]
            if expr_type is not None and draft.kwargs["type"] != "calculate":
                self.types[qid] = expr_type
        for item_id in self.item_owner:
            self.types[item_id] = "integer"
        calculations = [qid for qid, d in self.drafts.items() if d.kwargs["type"] == "calculate"]
        for qid in calculations:
            self.types[qid] = "any"
        for qid in self.calculation_order(calculations, graph):
            site = self.drafts[qid].exprs.get("calculation")
            compiled = self.compile(site, None, None) if site is not None else None
            if compiled is not None and qid not in cyclic:
                self.types[qid] = compiled.type
        for site in self.section_exprs.values():
            self.compile(site, None, "boolean")
        for qid, draft in self.drafts.items():
            this = self.types.get(qid) if draft.kwargs["type"] != "calculate" else None
            for key, site in draft.exprs.items():
                if key != "calculation":
                    self.compile(site, this if key in ("constraint", "screen") else None, "boolean")

    def calculation_order(
        self, calculations: list[str], graph: dict[str, list[tuple[str, _ExprSite]]]
    ) -> list[str]:
        """Calculations, each after the calculations it refers to (cycles are broken arbitrarily)."""
        wanted = set(calculations)
        done: list[str] = []
        seen: set[str] = set()

        def visit(qid: str) -> None:
            if qid in seen:
                return
            seen.add(qid)
            for ref, _ in graph.get(qid, ()):
                if ref in wanted:
                    visit(ref)
            done.append(qid)

        for qid in calculations:
            visit(qid)
        return done

    def compile(self, site: _ExprSite, this: str | None, expect: str | None) -> Any:
        try:
            site.compiled = compile_expr(site.source, refs=self.types, this=this, expect=expect)
        except ExprError as exc:
            where = self.site_pos(site, exc.offset)
            owner = "section" if site.is_section else "question"
            self.error(where, f"{site.key} of {owner} '{site.owner}': {exc.message}")
            return None
        return site.compiled

    # -- index ---------------------------------------------------------------------------------------------------
    def index(self, index: Obj | None) -> Index | None:
        if not isinstance(index, Obj) or "id" not in index:
            return None
        node_ids: dict[str, Pos] = {}
        used_items: dict[str, Pos] = {}

        def node_id(obj: Obj) -> str:
            identifier: str = obj["id"]
            if identifier in node_ids:
                self.error(
                    obj.pos("id"),
                    f"duplicate index id '{identifier}' (first at line {node_ids[identifier][0]})",
                )
            elif identifier in self.id_pos:
                self.error(obj.pos("id"), f"index id '{identifier}' is also a question id")
            node_ids.setdefault(identifier, obj.pos("id"))
            return identifier

        def weight(obj: Obj, what: str, identifier: str) -> float:
            value = obj.get("weight", 1.0)
            if not math.isfinite(value):
                self.error(obj.pos("weight"), f"weight of {what} '{identifier}' must be a finite number")
                return 1.0
            if value <= 0:
                self.error(
                    obj.pos("weight"),
                    f"weight of {what} '{identifier}' must be greater than 0, "
                    f"not {obj.nodes['weight'].value}",
                )
                return 1.0
            return float(value)

        def share(obj: Obj, key: str, what: str, identifier: str, default: float) -> float:
            value = obj.get(key, default)
            if not 0 <= value <= 1:
                self.error(obj.pos(key), f"{key} of {what} '{identifier}' must be between 0 and 1")
                return default
            return float(value)

        root_id = node_id(index)
        dimension_share = share(index, "dimension_min_share", "index", root_id, 0.0)
        indicator_share = share(index, "indicator_min_share", "index", root_id, 0.0)
        dimensions: list[IndexNode] = []
        for dimension in index.get("dimensions") or ():
            if "id" not in dimension:
                continue
            dim_id = node_id(dimension)
            indicators: list[IndexNode] = []
            for indicator in dimension.get("indicators") or ():
                if "id" not in indicator:
                    continue
                ind_id = node_id(indicator)
                items = self.index_items(indicator, ind_id, used_items)
                indicators.append(
                    IndexNode(
                        ind_id,
                        "indicator",
                        self.label(indicator.get("label")),
                        weight(indicator, "indicator", ind_id),
                        share(indicator, "min_share", "indicator", ind_id, indicator_share),
                        tuple(items),
                    )
                )
            dimensions.append(
                IndexNode(
                    dim_id,
                    "dimension",
                    self.label(dimension.get("label")),
                    weight(dimension, "dimension", dim_id),
                    share(dimension, "min_share", "dimension", dim_id, dimension_share),
                    tuple(indicators),
                )
            )
        self.unindexed(used_items)
        root = IndexNode(
            root_id,
            "root",
            self.label(index.get("label")),
            1.0,
            share(index, "min_share", "index", root_id, 0.0),
            tuple(dimensions),
        )
        return Index(normalise(root), index.get("aggregation", "arithmetic"))

    def index_items(self, indicator: Obj, ind_id: str, used: dict[str, Pos]) -> list[IndexNode]:
        items: list[IndexNode] = []
        entries = indicator.get("items") or Seq(indicator.node)
        for entry, node in zip(entries, entries.nodes, strict=True):
            if isinstance(entry, Obj):
                if "id" not in entry:
                    continue
                item_id, where = entry["id"], entry.pos("id")
                value = entry.get("weight", 1.0)
                if not math.isfinite(value) or value <= 0:
                    shown = entry.nodes["weight"].value
                    self.error(
                        entry.pos("weight"), f"weight of item '{item_id}' must be greater than 0, not {shown}"
                    )
                    value = 1.0
            else:
                item_id, where, value = entry, pos(node), 1.0
            if not self.index_item_ok(item_id, where, ind_id):
                continue
            if item_id in used:
                self.error(where, f"item '{item_id}' is already in the index (line {used[item_id][0]})")
                continue
            used[item_id] = where
            items.append(IndexNode(item_id, "item", None, float(value), 0.0))
        return items

    def index_item_ok(self, item_id: str, where: Pos, ind_id: str) -> bool:
        if item_id in self.item_owner:
            return True
        draft = self.drafts.get(item_id)
        if draft is None:
            hint = did_you_mean(item_id, [*self.item_owner, *(q for q in self.drafts if self.scorable(q))])
            self.error(where, f"unknown item '{item_id}' in indicator '{ind_id}'{hint}")
            return False
        qtype = draft.kwargs["type"]
        if qtype == "matrix":
            self.error(where, f"'{item_id}' is a matrix: list its items in indicator '{ind_id}'")
            return False
        if not self.scorable(item_id):
            self.error(
                where,
                f"'{item_id}' (a {qtype} question) cannot be an index item: use a likert question, "
                "a matrix item, a single choice with scores or a yes_no check",
            )
            return False
        return True

    def scorable(self, qid: str) -> bool:
        kwargs = self.drafts[qid].kwargs
        qtype = kwargs["type"]
        if qtype == "likert":
            return True
        if qtype == "yes_no":
            return kwargs.get("check") is not None or "check" in self.drafts[qid].obj
        if qtype == "single_choice":
            choices = kwargs.get("choices")
            return choices is not None and bool(choices.choices) and choices.scored()
        return False

    def unindexed(self, used: dict[str, Pos]) -> None:
        """Every scorable question or matrix item with in_index (default true) must be in some indicator."""
        for qid, draft in self.drafts.items():
            if draft.kwargs["type"] == "matrix":
                for item in draft.kwargs.get("items") or ():
                    if item.in_index and item.id not in used:
                        self.error(
                            self.id_pos[item.id],
                            f"matrix item '{item.id}' is in no indicator of the "
                            "index (add it to one, or set in_index: false)",
                        )
                    elif not item.in_index and item.id in used:
                        self.error(used[item.id], f"'{item.id}' has in_index: false but is in the index")
            elif self.scorable(qid):
                in_index = draft.kwargs.get("in_index", True)
                if in_index and qid not in used:
                    self.error(
                        self.id_pos[qid],
                        f"question '{qid}' is in no indicator of the index "
                        "(add it to one, or set in_index: false)",
                    )
                elif not in_index and qid in used:
                    self.error(used[qid], f"'{qid}' has in_index: false but is in the index")

    # -- assembly ------------------------------------------------------------------------------------------------
    def assemble(self, title: Label, description: Label | None, index: Index | None) -> Questionnaire:
        sections: list[Section] = []
        for section, section_id in self.sections:
            questions: list[Question] = []
            for q in section.get("questions") or ():
                draft = self.drafts[q["id"]]
                kwargs = dict(draft.kwargs)
                for key, site in draft.exprs.items():
                    kwargs[key] = Expression(site.source, site.compiled)
                kwargs["expr_type"] = self.types.get(q["id"])
                questions.append(Question(**kwargs))
            site = self.section_exprs.get(section_id)
            relevant = Expression(site.source, site.compiled) if site is not None else None
            sections.append(
                Section(
                    section_id,
                    self.label(section.get("title")),
                    self.label(section.get("description")),
                    relevant,
                    tuple(questions),
                    section.get("filled_by", "respondent"),
                )
            )
        root = self.root
        return Questionnaire(
            id=root["id"],
            version=root["version"],
            kind=root["kind"],
            title=title,
            description=description,
            languages=self.languages,
            choice_lists=MappingProxyType(self.choice_lists),
            scales=MappingProxyType(self.scales),
            legal_basis=MappingProxyType(self.legal),
            sections=tuple(sections),
            index=index,
            content_hash=self.content_hash,
            source_path=self.reader.path,
        )


def normalise(node: IndexNode, effective: float = 1.0) -> IndexNode:
    """Normalise the weights within every parent and compute effective weights down the tree."""
    total = sum(child.weight for child in node.children)
    children = tuple(
        normalise(_with(child, child.weight / total), effective * child.weight / total)
        for child in node.children
    )
    return IndexNode(
        node.id,
        node.level,
        node.label,
        node.weight,
        node.min_share,
        children,
        node.normalised_weight,
        effective,
    )


def _with(node: IndexNode, normalised: float) -> IndexNode:
    return IndexNode(
        node.id,
        node.level,
        node.label,
        node.weight,
        node.min_share,
        node.children,
        normalised,
        node.effective_weight,
    )


def _safe_references(source: str) -> frozenset[str]:
    try:
        return references(source)
    except ExprError:
        return frozenset()
