"""A readable outline of a questionnaire: sections, questions and the weight tree with effective weights."""

from __future__ import annotations

from .model import IndexNode, Question, Questionnaire, text


def _flags(q: Question) -> str:
    flags = []
    if q.required:
        flags.append("required")
    if q.relevant is not None:
        flags.append(f"if {q.relevant.source}")
    if q.screen is not None:
        flags.append(f"screen {q.screen.source}")
    if q.constraint is not None:
        flags.append(f"constraint {q.constraint.source}")
    if q.calculation is not None:
        flags.append(f"= {q.calculation.source}")
    if q.weighting_variable:
        flags.append("weighting variable")
    if q.reverse:
        flags.append("reversed")
    if q.scale is not None:
        flags.append(f"scale {q.scale.min}–{q.scale.max}")
    if q.choices is not None:
        flags.append(f"choices {q.choices.id} ({len(q.choices.choices)})")
    if q.check is not None:
        basis = ", ".join(q.check.legal_basis)
        flags.append(
            f"check: pass if {'yes' if q.check.pass_if else 'no'}, {q.check.severity}"
            + (f", {basis}" if basis else "")
        )
    return f"  [{'; '.join(flags)}]" if flags else ""


def _tree(node: IndexNode, names: dict[str, str], language: str, depth: int, lines: list[str]) -> None:
    pad = "  " * depth
    name = text(node.label, language) or names.get(node.id, "")
    if node.level == "root":
        lines.append(f"{pad}{node.id}  {name}".rstrip())
    else:
        lines.append(
            f"{pad}{node.id}  {name}  weight {node.weight:g} → {node.normalised_weight:.3f}, "
            f"effective {node.effective_weight:.4f}"
        )
    for child in node.children:
        _tree(child, names, language, depth + 1, lines)


def outline(q: Questionnaire, language: str | None = None) -> str:
    """The outline as text (labels in ``language``, default: the questionnaire's default language)."""
    language = language or q.default_language
    lines = [
        f"{q.id} {q.version} ({q.kind}): {q.title.get(language)}",
        f"sha256 {q.content_hash}",
        f"languages: {', '.join(q.languages)}",
        "",
        "Sections:",
    ]
    for section in q.sections:
        relevant = f"  [if {section.relevant.source}]" if section.relevant is not None else ""
        lines.append(f"  {section.id}  {text(section.title, language)}{relevant}")
        for question in section.questions:
            lines.append(
                f"    {question.id}  {question.type}  {text(question.label, language)}{_flags(question)}"
            )
            for item in question.items:
                reverse = "  [reversed]" if item.reverse else ""
                lines.append(f"      {item.id}  {item.label.get(language)}{reverse}")
    if q.index is not None:
        root = q.index.root
        lines += [
            "",
            f"Index ({q.index.aggregation}; weight as written → share of the parent, effective weight):",
        ]
        names = {
            item_id: text(item.label if item is not None else question.label, language)
            for item_id, (question, item) in q.scored_items().items()
        }
        _tree(root, names, language, 1, lines)
        weights = q.effective_weights()
        lines.append(f"  {len(weights)} items; effective weights sum to {sum(weights.values()):.4f}")
    return "\n".join(lines) + "\n"
