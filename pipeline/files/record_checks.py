"""Record-level checks: one record type's sliced text frame → accepted typed rows + reject rows.

The checks are the layout record's pandera schema (pipeline/files/schema.py); a reject row names the
field, the code from the registry (error_codes.yaml) and the masked value, never the whole record.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from pipeline.files import errors
from pipeline.files.layouts import Record
from pipeline.files.lines import LINE_NO
from pipeline.files.schema import REQUIRED_CHECK, check_parts, field_rules, record_schema, row_is_valid, typed_columns
from pipeline.safeguards.masking import mask_ssn_expr


def _failure_rows(failures: pl.DataFrame, frame: pl.DataFrame, record: Record, file: str) -> pl.DataFrame:
    """pandera failure cases → reject rows (line, field, code, message, masked value)."""
    rule_fields = {r.code: ",".join(r.any_of) for r in record.rules}
    whole_row = pl.col("schema_context") == "DataFrameSchema"  # rule checks: never echo the row
    cases = failures.select(
        pl.col("index").cast(pl.Int64),
        pl.when(whole_row)
        .then(pl.col("check").replace_strict(rule_fields, default=""))
        .otherwise(pl.col("column"))
        .alias("field"),
        pl.when(pl.col("check") == REQUIRED_CHECK).then(pl.lit("REQUIRED")).otherwise(pl.col("check")).alias("code"),
        pl.when(whole_row).then(pl.lit("")).otherwise(pl.col("failure_case").cast(pl.Utf8)).alias("value"),
    ).filter(pl.col("index").is_not_null())
    lines = (
        frame.select(pl.col(LINE_NO).alias("line")).with_row_index("index").with_columns(pl.col("index").cast(pl.Int64))
    )
    cases = cases.join(lines, on="index", how="left")
    return (
        cases.join(_messages(cases, record), on=["field", "code"], how="left")
        .select(
            pl.lit(file).alias("file"),
            "line",
            pl.lit(record.id).alias("record_type"),
            "field",
            "code",
            "message",
            _masked_value(record),
        )
        .unique(maintain_order=True)
    )


def _field_detail(code: str, spec, fld: str) -> str:
    if code == "BAD_CHARACTERS" and spec:
        return spec.type
    if code == "BAD_CODE" and spec:
        return ",".join(spec.values)
    return (fld or "").replace(",", " or ")


def _messages(cases: pl.DataFrame, record: Record) -> pl.DataFrame:
    """One message per distinct (field, code): templates are filled once, not per row."""
    names = {f.name: f for f in record.fields}
    rows = [
        {
            "field": fld,
            "code": code,
            "message": errors.render(code, field=fld, detail=_field_detail(code, names.get(fld), fld)),
        }
        for fld, code in cases.select("field", "code").unique().iter_rows()
    ]
    return pl.DataFrame(rows, schema={"field": pl.Utf8, "code": pl.Utf8, "message": pl.Utf8})


def _masked_value(record: Record) -> pl.Expr:
    pii = [f.name for f in record.fields if f.pii]
    value = pl.col("value")
    return pl.when(pl.col("field").is_in(pii)).then(mask_ssn_expr(value)).otherwise(value).alias("value")


def soften(frame: pl.DataFrame, record: Record, file: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Fields of severity `warning`: a blank (when required) or invalid value becomes null (unknown) and a
    warning row (UNKNOWN_VALUE, the failed check in the message) instead of a reject → (frame, warning rows)."""
    soft = [f for f in record.fields if f.severity == "warning" and f.name in frame.columns]
    if not soft or frame.is_empty():
        return frame, errors.empty_rejects()
    failed = []
    for f in soft:
        col = pl.col(f.name)
        checks = [("is blank", col.is_null() & pl.lit(f.required))]
        checks += [
            (errors.render(code, field=f.name).removeprefix(f"{f.name} "), ~ok(col)) for code, ok in field_rules(f)
        ]
        reason = pl.when(checks[0][1]).then(pl.lit(checks[0][0]))
        for text, bad in checks[1:]:
            reason = reason.when(bad).then(pl.lit(text))
        failed.append(reason.otherwise(None).alias(f"_soft_{f.name}"))
    marked = frame.with_columns(failed)
    rows = []
    for f in soft:
        bad = marked.filter(pl.col(f"_soft_{f.name}").is_not_null())
        if bad.height:
            value = mask_ssn_expr(pl.col(f.name)) if f.pii else pl.col(f.name)
            rows.append(
                bad.select(
                    pl.lit(file).alias("file"),
                    pl.col(LINE_NO).cast(pl.Int64).alias("line"),
                    pl.lit(record.id).alias("record_type"),
                    pl.lit(f.name).alias("field"),
                    pl.lit("UNKNOWN_VALUE").alias("code"),
                    pl.format(errors.render("UNKNOWN_VALUE", field=f.name, detail="{}"), f"_soft_{f.name}").alias(
                        "message"
                    ),
                    value.fill_null("").alias("value"),
                )
            )
    cleaned = marked.with_columns(
        pl.when(pl.col(f"_soft_{f.name}").is_null()).then(pl.col(f.name)).alias(f.name) for f in soft
    ).drop([f"_soft_{f.name}" for f in soft])
    warnings = pl.concat(rows).sort("line") if rows else errors.empty_rejects()
    return cleaned, warnings


def _failing_parts(suspects: pl.DataFrame, record: Record) -> frozenset[str] | None:
    """The schema parts (fields, rules) some suspect row fails: pandera needs to run only those, as the
    others would report nothing (each check costs pandera a pass of its own, whatever the rows)."""
    parts = check_parts(record)
    if not parts:
        return None
    failing = suspects.select([(~expr.fill_null(False)).any().alias(str(i)) for i, (_, expr) in enumerate(parts)])
    return frozenset(name for (name, _), fails in zip(parts, failing.row(0)) if fails) or None


def validate_records(frame: pl.DataFrame, record: Record, file: str) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Validate one record type's sliced text frame → (accepted typed frame, reject rows, warning rows).

    A one-pass pre-screen finds the rows that fail any check; pandera then runs on those rows only
    and says which field failed which check (a clean file never pays for pandera's reporting). Warning
    fields are softened first (`soften`); a rejected record's warnings are dropped (its rejects say enough)."""
    frame, warnings = soften(frame, record, file)
    valid = frame.select(row_is_valid(record)).to_series()
    if valid.all():
        return typed_columns(frame, record), errors.empty_rejects(), warnings
    suspects = frame.filter(~valid)
    try:
        record_schema(record, _failing_parts(suspects, record)).validate(suspects, lazy=True)
        raise AssertionError(f"pre-screen and schema disagree on record {record.id}")
    except pa.errors.SchemaErrors as exc:
        rejects = _failure_rows(exc.failure_cases, suspects, record, file)
    if warnings.height:
        warnings = warnings.join(rejects.select("line").unique(), on="line", how="anti")
    return typed_columns(frame.filter(valid), record), rejects, warnings
