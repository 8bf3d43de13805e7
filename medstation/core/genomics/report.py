"""The printable genomics report (PDF, reportlab) and its JSON twin, written atomically.

``content`` is the plain dictionary built by medstation.services.genomics.report_content; the PDF shows
the same sections: sample and file, tools and knowledge packs, PGx calls with CPIC recommendations, prioritised
variants with their ACMG evidence and SHAP waterfall, the HMM genome track, limitations and disclaimer.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from medstation.core import atomic

STATE_COLOURS = {"ROH": "#c0392b", "not ROH": "#95a5a6", "low VAF (subclonal)": "#2980b9",
                 "mid VAF (heterozygous)": "#27ae60", "high VAF (LOH / homozygous)": "#c0392b"}


def report_paths(out_dir: Path, vcf_name: str) -> tuple[Path, Path]:
    stem = re.sub(r"\.(vcf|bcf)(\.b?gz)?$", "", vcf_name, flags=re.IGNORECASE)
    return out_dir / f"{stem}.genomics-report.pdf", out_dir / f"{stem}.genomics-report.json"


def write_report(content: dict, out_dir: str | Path) -> tuple[Path, Path]:
    out_dir = Path(out_dir)
    pdf_path, json_path = report_paths(out_dir, content["file"]["name"])
    with atomic.atomic_path(pdf_path) as tmp:
        render_pdf(content, tmp)
    atomic.write_text(json_path, json.dumps(content, indent=2, default=str) + "\n")
    return pdf_path, json_path


def _styles():
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

    base = getSampleStyleSheet()
    small = ParagraphStyle("small", parent=base["BodyText"], fontSize=7.5, leading=9)
    return base, small


def _table(rows, widths, small, header_bg="#dfe6ee"):
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    data = [[Paragraph(_esc(c), small) for c in row] for row in rows]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(header_bg)),
                               ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _esc(value) -> str:
    text = "" if value is None else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_pdf(content: dict, target: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    base, small = _styles()
    doc = SimpleDocTemplate(str(target), pagesize=A4, leftMargin=14 * mm, rightMargin=14 * mm, topMargin=14 * mm,
                            bottomMargin=14 * mm, title=content["title"], author="MedStation")
    width = A4[0] - 28 * mm
    story = [Paragraph(_esc(content["title"]), base["Title"]),
             Paragraph(f"<b>{_esc(content['disclaimer'])}</b>", small), Spacer(1, 4)]
    story += _file_section(content, base, small, width)
    story += _pgx_section(content, base, small, width)
    story += _variant_section(content, base, small, width)
    story += _hmm_section(content, base, small, width)
    story.append(Paragraph("Limitations", base["Heading2"]))
    story += [Paragraph("- " + _esc(text), small) for text in content["limitations"] + content.get("notes", [])]
    story.append(Spacer(1, 6))
    story.append(Paragraph(f"<b>{_esc(content['disclaimer'])}</b>", small))
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)


def _footer(canvas, doc) -> None:
    canvas.saveState()
    canvas.setFont("Helvetica", 7)
    canvas.drawString(doc.leftMargin, 8 * 2.835, f"MedStation genomics report - research use only, not for clinical "
                                                 f"use - page {doc.page}")
    canvas.restoreState()


def _file_section(content, base, small, width):
    from reportlab.platypus import Paragraph

    f = content["file"]
    rows = [["Field", "Value"], ["File", f["path"]], ["SHA-256", f["sha256"]],
            ["Sample", f"{content['sample']}" + (f" (normal: {content['normal']})" if content["normal"] else "")
             + f"; {content['samples']} sample(s) in file"],
            ["Format / assembly / annotation", f"{f['format']} / {f['assembly'] or 'unknown'} / {f['annotation']}"],
            ["Records", f"{f['records']} loaded; {f['malformed_count']} malformed skipped"],
            ["Generated", content["generated"]]]
    tools = [["Tool", "Version"]] + [[k, v] for k, v in content["tools"].items()]
    packs = [["Knowledge pack", "Source", "Version", "Licence"]] + [[p["name"], p["source"], p["version"],
                                                                     p["licence"]] for p in content["packs"]]
    out = [Paragraph("Sample and file", base["Heading2"]), _table(rows, [45 * 2.835, width - 45 * 2.835], small),
           Paragraph("Tools and knowledge packs", base["Heading2"]),
           _table(tools, [width * 0.35, width * 0.65], small),
           _table(packs, [width * 0.25, width * 0.4, width * 0.15, width * 0.2], small)]
    if f["malformed"]:
        out.append(Paragraph("Malformed records: " + _esc("; ".join(f["malformed"][:8])), small))
    return out


def _pgx_section(content, base, small, width):
    from reportlab.platypus import Paragraph

    out = [Paragraph("Pharmacogenomics (CPIC)", base["Heading2"])]
    pgx = content.get("pgx")
    if not pgx:
        return out + [Paragraph("Not available.", small)]
    rows = [["Gene", "Status", "Diplotype", "Phenotype", "Positions tested", "Defining variants seen"]]
    for g in pgx["genes"]:
        rows.append([g["gene"], g["status"], g["diplotype"] + (f" (also fits {', '.join(g['alternatives'])})"
                                                               if g["alternatives"] else ""),
                     g["phenotype"], f"{g['positions_tested']} of {g['positions_total']}",
                     ", ".join(g["observed"][:4])])
    out.append(Paragraph(f"Genome build {pgx['build']}; source: {_esc(pgx['source'])}", small))
    out.append(_table(rows, [width * w for w in (0.1, 0.13, 0.2, 0.2, 0.1, 0.27)], small))
    recs = [["Drug", "Gene(s)", "Phenotype", "CPIC level", "Recommendation"]]
    recs += [[a["drug"], a["genes"], a["phenotypes"], a["cpic_level"], a["recommendation"]]
             for a in pgx["recommendations"]]
    if len(recs) > 1:
        out.append(Paragraph("CPIC recommendations for the called phenotypes", base["Heading3"]))
        out.append(_table(recs, [width * w for w in (0.13, 0.12, 0.2, 0.08, 0.47)], small))
    return out


def _variant_section(content, base, small, width):
    from reportlab.platypus import KeepTogether, Paragraph

    out = [Paragraph("Prioritised variants", base["Heading2"])]
    model = content.get("validity_model")
    if model:
        h = model.get("held_out") or {}
        out.append(Paragraph(f"Call validity: {model['name']} {model['version']} (random forest; held-out AUC "
                             f"{h.get('auc')}, precision {h.get('precision_at_0.5')}, recall "
                             f"{h.get('recall_at_0.5')}; within one caller family AUC "
                             f"{(model.get('held_out_single_caller_family') or {}).get('auc')}). "
                             "Global importance: " + _esc(", ".join(
                                 f"{f} {v:.3f}" for f, v in model["global_importance"][:5])), small))
    for i, v in enumerate(content["prioritised"], start=1):
        title = (f"{i}. {v['chrom']}:{v['pos']} {v['ref']}>{v['alt']} {v['gene'] or ''} {v['consequence'] or ''} "
                 f"{v['hgvsp'] or v['hgvsc'] or ''} - {v['classification']}")
        facts = (f"line {v['line']}; FILTER {v['filter']}; GT {v['gt'] or '-'}; VAF {_num(v['vaf'])}; depth "
                 f"{_num(v['depth'])}; ClinVar {v['clinvar'] or '-'}; population AF {_num(v['gnomad_af'])}; "
                 f"P(real call) {_num(v['p_valid'])}")
        rows = [["Criterion", "Met", "Strength", "Why", "Source"]]
        rows += [[e["code"], "yes" if e["met"] else "no", e["strength"], e["reason"], e["source"]]
                 for e in v["evidence"]]
        block = [Paragraph(_esc(title), base["Heading4"]), Paragraph(_esc(facts), small),
                 _table(rows, [width * w for w in (0.08, 0.05, 0.1, 0.4, 0.37)], small)]
        if v.get("shap"):
            block.append(shap_drawing(v["shap"], width))
        out.append(KeepTogether(block))
    return out


def _num(value) -> str:
    return "-" if value is None else f"{value:.3g}"


def shap_drawing(shap: dict, width: float, top: int = 8):
    """A SHAP waterfall: from the model's base value, each feature pushes P(real call) up (red) or down (blue)."""
    from reportlab.graphics.shapes import Drawing, Line, Rect, String
    from reportlab.lib import colors

    items = shap["contributions"][:top]
    rest = sum(c["shap"] for c in shap["contributions"][top:])
    row_h, label_w = 11, 150
    height = row_h * (len(items) + 3) + 10
    d = Drawing(width, height)
    lo = min(0.0, shap["base"], shap["value"]) - 0.05
    hi = max(1.0, shap["base"], shap["value"]) + 0.05
    scale = (width - label_w - 60) / (hi - lo)
    x_of = (lambda p: label_w + (p - lo) * scale)
    y = height - 14
    d.add(String(0, y, f"SHAP waterfall: base {shap['base']:.3f} -> P(real call) {shap['value']:.3f}",
                 fontSize=7.5, fontName="Helvetica-Bold"))
    running = shap["base"]
    for c in items + [{"feature": "other features", "value": None, "shap": rest}]:
        y -= row_h
        label = c["feature"] + ("" if c["value"] is None else f" = {c['value']:.3g}")
        d.add(String(0, y + 2, label, fontSize=7))
        start, end = running, running + c["shap"]
        colour = colors.HexColor("#d62728") if c["shap"] >= 0 else colors.HexColor("#1f77b4")
        d.add(Rect(x_of(min(start, end)), y, max(0.8, abs(end - start) * scale), row_h - 3, fillColor=colour,
                   strokeColor=None))
        d.add(String(x_of(max(start, end)) + 3, y + 2, f"{c['shap']:+.3f}", fontSize=6.5))
        running = end
    d.add(Line(x_of(shap["base"]), 2, x_of(shap["base"]), height - 18, strokeColor=colors.grey,
               strokeDashArray=[2, 2]))
    return d


def _hmm_section(content, base, small, width):
    from reportlab.platypus import Paragraph

    hmm = content.get("hmm")
    out = [Paragraph("HMM genome track", base["Heading2"])]
    if not hmm:
        return out + [Paragraph("Not available for this file.", small)]
    sample = hmm["samples"][0] if hmm["samples"] else ""
    segs = [s for s in hmm["segments"] if s["sample"] == sample]
    out.append(Paragraph(f"{_esc(hmm['kind'])} (hmmlearn) for {_esc(sample)}; {hmm['segments_total']} segments "
                         f"over {len(hmm['samples'])} sample(s).", small))
    out.append(hmm_drawing(segs, width))
    rows = [["Chrom", "Start", "End", "State", "Sites", "Mean value"]]
    rows += [[s["chrom"], s["start"], s["end"], s["state"], s["n_sites"], f"{s['value']:.3f}"] for s in segs[:25]]
    out.append(_table(rows, [width * w for w in (0.1, 0.18, 0.18, 0.3, 0.1, 0.14)], small))
    return out


def hmm_drawing(segments: list[dict], width: float):
    """Segments laid end to end by chromosome, coloured by state."""
    from reportlab.graphics.shapes import Drawing, Rect, String
    from reportlab.lib import colors

    d = Drawing(width, 46)
    chroms = list(dict.fromkeys(s["chrom"] for s in segments))
    spans = {c: (min(s["start"] for s in segments if s["chrom"] == c),
                 max(s["end"] for s in segments if s["chrom"] == c)) for c in chroms}
    total = sum(max(1, b - a) for a, b in spans.values()) or 1
    offset = 0.0
    for chrom in chroms:
        a, b = spans[chrom]
        w = max(1, b - a) / total * width
        for s in (s for s in segments if s["chrom"] == chrom):
            x = offset + (s["start"] - a) / max(1, b - a) * w
            sw = max(0.5, (s["end"] - s["start"]) / max(1, b - a) * w)
            d.add(Rect(x, 16, sw, 18, fillColor=colors.HexColor(STATE_COLOURS.get(s["state"], "#7f8c8d")),
                       strokeColor=None))
        d.add(String(offset + 1, 4, str(chrom), fontSize=6))
        offset += w
    x = 0
    for state, colour in STATE_COLOURS.items():
        if any(s["state"] == state for s in segments):
            d.add(Rect(x, 38, 6, 6, fillColor=colors.HexColor(colour), strokeColor=None))
            d.add(String(x + 8, 38, state, fontSize=6.5))
            x += 8 + len(state) * 3.4 + 10
    return d
