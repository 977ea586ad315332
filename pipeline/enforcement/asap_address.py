"""The best known mailing address of a noncustodial parent, for an early-intervention (ASAP) letter.

Every address fpls holds for a person, with its source and date (SQL view `asap_addresses` over the store):

| source                         | where                                   | dated by                     |
|--------------------------------|-----------------------------------------|------------------------------|
| W-4 new hire (NDNH H99)        | `ndnh` employee address                 | date of hire (else received) |
| UI claim (NDNH H97)            | `ndnh` claimant address                 | date received                |
| state offset file              | `debtors` address of record             | the cycle it was last sent   |
| insurance claim                | `insurance_claims` via an automatic match | the claim's processing date  |
| MSFIDM account                 | `msfidm_accounts` via an automatic match  | the cycle it was reported    |

The FCR person record and the QW wage record carry no home address in fpls's layouts (DESIGN §7: QW
names the employer, not the employee's home), so they do not appear here.

An address is usable for a letter when it is complete (line 1, city, a two-letter state and a five-digit
ZIP) and not protected. Protected (DESIGN §8, family violence):
- the parent is flagged FV by another state and the address came from anywhere but the letter state's
  own file (no FPLS address of an FV-flagged person reaches another state, in a letter or elsewhere);
- the address is one fpls knows for any other person flagged FV in any state (a letter is never mailed
  to where a protected person lives);
- a letter to it came back undeliverable (contact outcome RETURNED).
The best usable address is the most recent one; on the same date the order of the table above decides.
"""

from __future__ import annotations

import duckdb

KEY = "upper(regexp_replace(trim({a}), '\\s+', ' ', 'g')) || '|' || left({z}, 5)"

ADDRESSES_SQL = f"""
CREATE OR REPLACE TEMP VIEW asap_addresses AS
SELECT ssn, source, source_rank, from_state, address_date, address_line_1, address_line_2, city, addr_state,
       left(zip, 5) AS zip, {KEY.format(a="address_line_1", z="zip")} AS address_key,
       address_line_1 IS NOT NULL AND trim(address_line_1) <> '' AND city IS NOT NULL AND trim(city) <> ''
           AND regexp_full_match(coalesce(addr_state, ''), '[A-Z]{{2}}')
           AND regexp_full_match(left(coalesce(zip, ''), 5), '[0-9]{{5}}') AS complete
FROM (
    SELECT verified_ssn AS ssn, 'W-4 new hire (NDNH)' AS source, 1 AS source_rank, NULL AS from_state,
           coalesce(hire_date, received) AS address_date, address_line_1, address_line_2, city, state AS addr_state, zip
    FROM ndnh WHERE source = 'H99' AND verified_ssn IS NOT NULL
    UNION ALL
    SELECT verified_ssn, 'UI claim (NDNH)', 2, NULL, received, address_line_1, address_line_2, city, state, zip
    FROM ndnh WHERE source = 'H97' AND verified_ssn IS NOT NULL
    UNION ALL
    SELECT d.ssn, 'state offset file', 3, d.state, c.as_of, d.address_line_1, d.address_line_2, d.city,
           d.addr_state, d.zip
    FROM debtors d JOIN cycles c ON c.cycle_id = coalesce(d.changed_cycle, d.added_cycle)
    WHERE d.status = 'active'
    UNION ALL
    SELECT m.ssn, 'insurance claim', 4, NULL, i.processing_date, i.claimant_address_line_1,
           i.claimant_address_line_2, i.claimant_city, i.claimant_state, i.claimant_zip
    FROM enforcement_matches m JOIN insurance_claims i USING (file_id, line_no) WHERE m.source = 'insurance'
    UNION ALL
    SELECT m.ssn, 'MSFIDM account', 5, NULL, c.as_of, a.account_holder_street, NULL, a.account_holder_city,
           a.account_holder_state, a.account_holder_zip
    FROM enforcement_matches m JOIN msfidm_accounts a USING (file_id, line_no) JOIN cycles c ON c.cycle_id = a.cycle_id
    WHERE m.source = 'msfidm'
)
WHERE ssn IS NOT NULL
"""

# One row per (state, member) of the temp table `asap_ncps` (state, member_id, ssn): the best usable
# address, or none with the reason.
BEST_SQL = """
CREATE OR REPLACE TEMP TABLE asap_best AS
WITH fv AS (SELECT DISTINCT verified_ssn AS ssn, state AS fv_state FROM fcr_persons
            WHERE status = 'active' AND family_violence = 'FV' AND verified_ssn IS NOT NULL),
fv_keys AS (SELECT DISTINCT a.address_key, a.ssn AS owner FROM asap_addresses a WHERE a.ssn IN (SELECT ssn FROM fv)),
returned AS (
    SELECT l.state, l.member_id, l.address_key FROM contact_outcomes o JOIN asap_letters l
      ON l.state = o.state AND l.member_id = o.member_id AND l.status = 'mailed' AND l.mail_date <= o.contact_date
         AND (o.letter_id IS NULL OR o.letter_id = l.letter_id)
    WHERE o.outcome = 'RETURNED' AND o.cycle_id <= $cycle
    QUALIFY row_number() OVER (PARTITION BY o.state, o.member_id, o.contact_date, o.line_no, o.file_id
                               ORDER BY l.mail_date DESC, l.letter_id DESC) = 1
),
cand AS (
    SELECT n.state, n.member_id, a.*,
           CASE WHEN NOT a.complete THEN 'incomplete'
                WHEN EXISTS (SELECT 1 FROM fv WHERE fv.ssn = n.ssn AND fv.fv_state <> n.state)
                     AND a.from_state IS DISTINCT FROM n.state THEN 'fv'
                WHEN EXISTS (SELECT 1 FROM fv_keys k WHERE k.address_key = a.address_key AND k.owner <> n.ssn) THEN 'fv'
                WHEN EXISTS (SELECT 1 FROM returned r WHERE r.state = n.state AND r.member_id = n.member_id
                             AND r.address_key = a.address_key) THEN 'returned'
           END AS blocked
    FROM asap_ncps n JOIN asap_addresses a ON a.ssn = n.ssn
    WHERE a.address_date <= $as_of
),
best AS (
    SELECT * FROM cand WHERE blocked IS NULL
    QUALIFY row_number() OVER (PARTITION BY state, member_id
                               ORDER BY address_date DESC, source_rank, address_key) = 1
),
why AS (
    SELECT state, member_id,
           CASE WHEN bool_or(blocked = 'fv') THEN 'address withheld (family violence)'
                WHEN bool_or(blocked = 'returned') THEN 'address returned undeliverable'
                ELSE 'no complete address on file' END AS reason
    FROM cand GROUP BY ALL
)
SELECT n.state, n.member_id, b.address_line_1, b.address_line_2, b.city, b.addr_state, b.zip, b.source AS address_source,
       b.address_date, b.address_key,
       CASE WHEN b.member_id IS NULL THEN coalesce(w.reason, 'no complete address on file') END AS reason
FROM asap_ncps n LEFT JOIN best b USING (state, member_id) LEFT JOIN why w USING (state, member_id)
"""


def best_addresses(con: duckdb.DuckDBPyConnection, cycle_id: str, as_of) -> None:
    """Fill the temp table `asap_best` for the parents in the temp table `asap_ncps`."""
    con.execute(ADDRESSES_SQL)
    con.execute(BEST_SQL.replace("$cycle", "$1").replace("$as_of", "$2"), [cycle_id, as_of])
