"""ASAP delinquent letters, rendered from the letters the enforcement stage chose (query `asap_letters`).

Each mailed letter carries the parent's best known mailing address (and where and when fpls learned it),
the state's own agency, office and toll-free number from its settings file (`<home>/states/<ST>.yaml`, as
stored with the letter), and the date by which to call (10 days after the mail date). Parents with no
usable address get no letter: they are listed at the end as "no address, locate requested".

Input rows are already masked (the SSN is the last four digits at most). Output is one plain-text file per
state, letters separated by a form feed so a print shop can split them.
"""

from __future__ import annotations

import polars as pl

FORM_FEED = "\f\n"
PASSPORT_THRESHOLD = 2500

TEMPLATE = """\
{agency}
{office_name}
{office_address}
{office_city_line}
Toll-free: {phone}{hours}

Date: {mail_date}                                   Letter {letter_id}

{name}
{address_block}

Member ID: {member_id}   SSN: {ssn}
Case(s): {case_ids}

NOTICE OF PAST-DUE CHILD SUPPORT

Our records show that your child support is at least 60 days past due: the oldest unpaid support on
your case(s) fell due on {oldest_due}. The total past-due amount on your case(s) in {state} is ${arrears}.
{last_payment}

Please call us at {phone} by {respond_by} (within 10 days of the date of this letter). We want to hear
about your situation and help you find a payment plan you can keep: voluntary payments now can prevent
the actions below.

If payments are not made, the following enforcement actions may follow:
  - income withholding: an order to your employer to withhold support from your wages
  - federal and state tax refund offset
{passport}  - suspension of driver's, professional, recreational and occupational licenses
  - reporting of the past-due support to consumer credit reporting agencies

If you have already paid or believe this notice is in error, please call us so we can review your case.

(Mailing address from: {address_source}, {address_date}.)
"""


class LetterError(ValueError):
    """A letter row that must not be printed (no complete mailing address)."""


def _last_payment(value: object) -> str:
    return f"Our last payment from you was received on {value}." if value else "We have no payment on record."


def _passport(arrears: float) -> str:
    if arrears > PASSPORT_THRESHOLD:
        return (
            "  - passport denial: past-due support over $2,500 is certified to the U.S. Department of "
            "State,\n    which denies passport applications and renewals\n"
        )
    return ""


def address_lines(row: dict) -> list[str]:
    """The mailing block under the name: street, optional unit, 'CITY, ST 12345'; refuses an incomplete one."""
    street, city, st, zip5 = (row.get(k) for k in ("address_line_1", "city", "addr_state", "zip"))
    if not (street and city and st and zip5 and len(str(zip5)) == 5):
        raise LetterError(f"letter {row.get('letter_id')}: no complete mailing address")
    return (
        [str(street)] + ([str(row["address_line_2"])] if row.get("address_line_2") else []) + [f"{city}, {st} {zip5}"]
    )


def render_letter(row: dict) -> str:
    name = " ".join(p for p in (row.get("first_name"), row.get("last_name")) if p) or "Noncustodial parent"
    return TEMPLATE.format(
        agency=row["agency"],
        office_name=row["office_name"],
        office_address=row["office_address"],
        office_city_line=row["office_city_line"],
        phone=row["toll_free"],
        hours=f" ({row['office_hours']})" if row.get("office_hours") else "",
        mail_date=row["mail_date"],
        letter_id=row["letter_id"],
        name=name,
        address_block="\n".join(address_lines(row)),
        member_id=row["member_id"],
        ssn=row.get("ncp_ssn") or "not on file",
        case_ids=row["case_ids"],
        oldest_due=row.get("oldest_unpaid_due") or "an earlier date",
        state=row["state"],
        arrears=f"{row['arrears']:,.2f}",
        last_payment=_last_payment(row.get("last_payment_date")),
        respond_by=row["respond_by"],
        passport=_passport(row["arrears"]),
        address_source=row.get("address_source") or "",
        address_date=row.get("address_date") or "",
    )


def _no_address_list(rows: list[dict], state: str) -> str:
    lines = [f"{state}: no address, locate requested ({len(rows)})", ""]
    lines += [
        f"  {r['member_id']}  {r.get('first_name') or ''} {r.get('last_name') or ''}  case(s) {r['case_ids']}  "
        f"- {r.get('reason') or 'no complete address on file'}"
        for r in rows
    ]
    return "\n".join(lines) + "\n"


def render_letters(rows: pl.DataFrame, state: str) -> str:
    """Every mailed letter of one state's rows, then the list of parents with no address (locate requested)."""
    if rows.height and rows.get_column("state").unique().to_list() != [state]:
        raise ValueError(f"letter rows for {state} include another state")
    mailed = [r for r in rows.iter_rows(named=True) if r["mailing"] == "mailed"]
    unaddressed = [r for r in rows.iter_rows(named=True) if r["mailing"] != "mailed"]
    parts = [render_letter(r) for r in mailed]
    if unaddressed:
        parts.append(_no_address_list(unaddressed, state))
    return FORM_FEED.join(parts)
