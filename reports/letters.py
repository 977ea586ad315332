"""ASAP delinquent letters: one rendered letter per noncustodial parent at least 60 days in arrears.

Input is the `asap_letters` query (already masked: the SSN is the last four digits at most). Output is
one plain-text file per state, letters separated by a form feed so a print shop can split them.
"""

from __future__ import annotations

import polars as pl

FORM_FEED = "\f\n"
TOLL_FREE = "1-800-555-0100"
PASSPORT_THRESHOLD = 2500

TEMPLATE = """\
{agency}
Child Support Services - Early Intervention (ASAP)
Toll-free: {phone}

Date: {as_of}

{name}
Member ID: {member_id}   SSN: {ssn}
Case(s): {case_ids}

NOTICE OF PAST-DUE CHILD SUPPORT

Our records show that your child support is at least 60 days past due. The total past-due amount
on your case(s) in {state} is ${arrears}. {last_payment}

Please call us at {phone} within 10 days of the date of this letter. We want to hear about your
situation and help you find a payment plan you can keep: voluntary payments now can prevent the
actions below.

If payments are not made, the following enforcement actions may follow:
  - income withholding: an order to your employer to withhold support from your wages
  - federal and state tax refund offset
{passport}  - suspension of driver's, professional, recreational and occupational licenses
  - reporting of the past-due support to consumer credit reporting agencies

If you have already paid or believe this notice is in error, please call us so we can review your case.
"""


def _last_payment(value: object) -> str:
    return f"Our last payment from you was received on {value}." if value else "We have no payment on record."


def _passport(arrears: float) -> str:
    if arrears > PASSPORT_THRESHOLD:
        return (
            "  - passport denial: past-due support over $2,500 is certified to the U.S. Department of "
            "State,\n    which denies passport applications and renewals\n"
        )
    return ""


def render_letter(row: dict, agency: str) -> str:
    name = " ".join(p for p in (row.get("first_name"), row.get("last_name")) if p) or "Noncustodial parent"
    return TEMPLATE.format(
        agency=agency,
        phone=TOLL_FREE,
        as_of=row.get("as_of_date") or "",
        name=name,
        member_id=row["member_id"],
        ssn=row.get("ncp_ssn") or "not on file",
        case_ids=row["case_ids"],
        state=row["state"],
        arrears=f"{row['arrears']:,.2f}",
        last_payment=_last_payment(row.get("last_payment_date")),
        passport=_passport(row["arrears"]),
    )


def render_letters(rows: pl.DataFrame, state: str) -> str:
    """All letters of one state's rows (the frame must hold only that state's parents)."""
    if rows.height and rows.get_column("state").unique().to_list() != [state]:
        raise ValueError(f"letter rows for {state} include another state")
    agency = f"{state} IV-D Child Support Enforcement Agency"
    return FORM_FEED.join(render_letter(r, agency) for r in rows.iter_rows(named=True))
