"""Child Support Portal submissions (issue 10), one small valid file of each per state in `inbound/<ST>/`:
IRG profile, EDE manifest + the document it names, DRA audit file, State Plan form + its attachment,
Self-Assessment report and (only while its window 1 Oct - 30 Dec of the --as-of year is open) the Access &
Visitation survey. They carry no person records (truth person_id null) and no deliberate invalid records:
the portal checks are business rules (receipts), not the matcher's concern. Documents are opaque,
deterministic PDF-like bytes (`FileOut.raw`), one truth row each with layout `portal_document`.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import polars as pl

from pipeline.files.layouts import load_layout
from synth import reference as ref
from synth.filekit import FileOut, book, finish_block, ymd
from synth.population import World
from synth.reference import rng

DOCUMENT = "portal_document"
DRA_LINES = ("01", "02", "04", "05", "06", "08", "12", "13", "16", "24", "25", "28", "29")
SA_SECTIONS = ("CASE_CLOSURE", "ESTABLISHMENT", "ENFORCEMENT", "DISBURSEMENT")
AV_SERVICES = ("MEDIATION", "PARENTING_PLANS", "SUPERVISED_VISITATION")


def fiscal_year(as_of: date) -> int:
    """The last complete federal fiscal year (ends 30 September) on or before as_of."""
    return as_of.year if as_of.month >= 10 else as_of.year - 1


def document_bytes(title: str, seed: int) -> bytes:
    """A small deterministic PDF-like document (opaque bytes, includes non-ASCII bytes like a real PDF)."""
    body = rng(seed, f"portal.doc.{title}").integers(0, 256, 64, dtype="uint8").tobytes()
    return (
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Title ("
        + title.encode("ascii")
        + b") >> endobj\nstream\n"
        + body
        + b"\nendstream\n%%EOF\n"
    )


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest().upper()


def _csv(sub: str, layout_name: str, name: str, rid: str, rows: dict) -> FileOut:
    frame = pl.DataFrame(rows, schema={k: pl.Utf8 for k in rows})
    return FileOut(
        sub,
        layout_name,
        name,
        [finish_block(book(frame, 0, None, None, None), load_layout(layout_name), rid, 0.0, rng(0, "portal.unused"))],
    )


def _doc(sub: str, name: str, data: bytes) -> FileOut:
    return FileOut(sub, DOCUMENT, name, [], raw=data)


def _office(st: str) -> tuple[str, str]:
    city = ref.cities().filter(pl.col("state") == st).sort("rank").row(0, named=True)
    return city["city"], city["zip"]


def portal_files(world: World, fin: pl.DataFrame, seed: int, batch: int) -> list[FileOut]:
    as_of, stamp, fy = world.as_of, ymd(world.as_of), fiscal_year(world.as_of)
    cases = (
        world.cases.select("case_no", "case_id", "case_state", "order")
        .join(fin.select("case_no", "monthly_obligation", "last_payment_amount"), on="case_no", how="left")
        .sort("case_id")
    )
    out: list[FileOut] = []
    for i, st in enumerate(world.states):
        g = rng(seed, f"portal.{st}")
        own = cases.filter(pl.col("case_state") == st).head(len(DRA_LINES))
        ids = own.get_column("case_id").to_list() or [f"{st}0000000000"]
        tag = f"{st}.{stamp}.{batch:03d}"
        city, zip5 = _office(st)
        # IRG profile: a general and an enforcement address, a contact, a policy.
        out.append(
            _csv(
                st,
                "irg_profile_csv",
                f"IRG.{tag}.csv",
                "IR",
                {
                    "profile_section": ["ADDRESS", "ADDRESS", "CONTACT", "POLICY"],
                    "item_kind": ["GENERAL", "ENFORCEMENT", "QUICK", "FEES"],
                    "name": [f"{st} CHILD SUPPORT SERVICES", f"{st} INTERSTATE UNIT", "CENTRAL REGISTRY", None],
                    "address_line_1": [f"PO BOX {100 + i}", f"PO BOX {700 + i}", None, None],
                    "address_line_2": [None, "ATTN INTERSTATE", None, None],
                    "city": [city, city, None, None],
                    "addr_state": [st, st, None, None],
                    "zip": [zip5, zip5, None, None],
                    "phone": [None, None, str(int(g.integers(2_000_000_000, 9_999_999_999))), None],
                    "email": [None, None, f"CENTRAL.REGISTRY@{st}.GOV", None],
                    "text": [None, None, None, "NO APPLICATION FEE FOR INTERSTATE CASES"],
                },
            )
        )
        # EDE: an unsolicited notice with its document and a request (no document) to the next state.
        if len(world.states) > 1:
            to = world.states[(i + 1) % len(world.states)]
            doc_name = f"EDE.{tag}.PDF"
            data = document_bytes(f"NOTICE {ids[0]} TO {to}", seed)
            out.append(
                _csv(
                    st,
                    "ede_manifest_csv",
                    f"EDE.{tag}.csv",
                    "ED",
                    {
                        "recipient_state": [to, to],
                        "case_id": [ids[0], ids[-1]],
                        "document_type": ["NOTICE", "ORDER"],
                        "exchange_type": ["UNSOLICITED", "REQUEST"],
                        "request_ref": [None, None],
                        "document_file": [doc_name, None],
                        "document_sha256": [_sha(data), None],
                        "note": ["NOTICE OF HEARING", "PLEASE SEND THE ORDER"],
                    },
                )
            )
            out.append(_doc(st, doc_name, data))
        # DRA: header, one sampled case per OCSE-157 line (as many as the state has cases), trailer.
        due = pl.col("monthly_obligation").fill_null(0)
        paid = pl.min_horizontal(pl.col("last_payment_amount").fill_null(0), due)
        dd = own.select(
            pl.lit("DD").alias("record_id"),
            pl.Series("ocse157_line", list(DRA_LINES[: own.height]), pl.Utf8),
            "case_id",
            pl.lit("O").alias("case_status"),
            pl.col("order").alias("order_indicator"),
            due.cast(pl.Utf8).alias("amount_due"),
            paid.cast(pl.Utf8).alias("amount_distributed"),
            pl.lit("Y").alias("paternity_established"),
        )
        dra = load_layout("dra_file")
        out.append(
            FileOut(
                st,
                "dra_file",
                f"DRA.{tag}.dat",
                [
                    finish_block(
                        book(
                            pl.DataFrame(
                                {
                                    "record_id": ["DH"],
                                    "file_type": ["DRA"],
                                    "state": [st],
                                    "audit_year": [str(fy)],
                                    "created": [stamp],
                                }
                            ),
                            -1,
                            0,
                            None,
                            None,
                        ),
                        dra,
                        "DH",
                        0.0,
                        g,
                    ),
                    finish_block(book(dd, 0, None, None, None), dra, "DD", 0.0, g),
                    finish_block(
                        book(pl.DataFrame({"record_id": ["DT"], "record_count": [str(dd.height)]}), 1, 0, None, None),
                        dra,
                        "DT",
                        0.0,
                        g,
                    ),
                ],
            )
        )
        # State plan: one page submitted for approval with its PDF attachment.
        att_name = f"PLAN.{tag}.PDF"
        att = document_bytes(f"STATE PLAN {st} 2.12", seed)
        out.append(
            _csv(
                st,
                "state_plan_csv",
                f"PLAN.{tag}.csv",
                "SP",
                {
                    "plan_section": ["2.12"],
                    "page_title": ["INTERSTATE PROCESSING"],
                    "plan_action": ["SUBMIT"],
                    "transmittal_number": [f"{as_of:%y}-{i + 1:03d}"],
                    "effective_date": [ymd(as_of + timedelta(days=60))],
                    "attachment_file": [att_name],
                    "attachment_sha256": [_sha(att)],
                    "page_text": ["AMENDED INTERSTATE PROCEDURES"],
                },
            )
        )
        out.append(_doc(st, att_name, att))
        # Self-assessment: this year's figures (no copy from prior: a first report).
        reviewed = g.integers(50, 200, len(SA_SECTIONS))
        compliant = (reviewed * g.uniform(0.8, 1.0, len(SA_SECTIONS))).astype(int)
        out.append(
            _csv(
                st,
                "self_assessment_csv",
                f"SELFASSESS.{tag}.csv",
                "SA",
                {
                    "report_year": [str(fy)] * len(SA_SECTIONS),
                    "assessment_section": list(SA_SECTIONS),
                    "copy_from_prior": ["N"] * len(SA_SECTIONS),
                    "cases_reviewed": [str(v) for v in reviewed],
                    "cases_compliant": [str(v) for v in compliant],
                    "narrative": ["MEETS THE BENCHMARK"] * len(SA_SECTIONS),
                },
            )
        )
        # Access & Visitation survey: only while its reporting window is open (states file in the window).
        if date(as_of.year, 10, 1) <= as_of <= date(as_of.year, 12, 30):
            ncp = g.integers(5, 60, len(AV_SERVICES))
            cp = g.integers(5, 60, len(AV_SERVICES))
            out.append(
                _csv(
                    st,
                    "av_survey_csv",
                    f"AVSURVEY.{tag}.csv",
                    "AV",
                    {
                        "grant_year": [str(as_of.year)] * len(AV_SERVICES),
                        "grantee_name": [f"{city} FAMILY CENTER"] * len(AV_SERVICES),
                        "grantee_kind": ["GRANTEE"] + ["SUBGRANTEE"] * (len(AV_SERVICES) - 1),
                        "service_type": list(AV_SERVICES),
                        "parents_served": [str(a + b) for a, b in zip(ncp, cp)],
                        "noncustodial_parents": [str(v) for v in ncp],
                        "custodial_parents": [str(v) for v in cp],
                        "grant_amount": [str(v) for v in g.integers(1_000_000, 10_000_000, len(AV_SERVICES))],
                        "state_details": [f"{st} ACCESS AND VISITATION PROGRAM"] + [None] * (len(AV_SERVICES) - 1),
                    },
                )
            )
    return out
