-- The metrics of fpls reports: every number on a report page or in a report CSV is a cell of one of
-- these named queries, run as written against the store (fpls.duckdb) with $cycle = the cycle id.
--
-- Block format (parsed by reports/metrics.py):
--   -- name: NAME                 unique query name (the CSV of a section is <ST>_<NAME>.csv)
--   -- title: TEXT                what the numbers are
--   -- requires: table(col, col) table2(col)   tables/columns the query needs; when one is missing
--                                 the section says "not available in this store" instead of failing
--   SQL ...;
-- Conventions: every query returns a `state` column. Rows with state = 'US' are the national totals
-- (GROUPING SETS), other rows belong to that one state only. Money is in whole dollars unless the
-- column name says cents. Columns whose name ends in `ssn` are masked to the last four digits before
-- anything is written (reports/metrics.py, pipeline.pii.mask_ssn_expr).

-- name: states
-- title: IV-D states in the store
-- requires: partners(partner_id, kind) fcr_persons(state)
SELECT state FROM (
    SELECT partner_id AS state FROM partners WHERE kind = 'state'
    UNION SELECT DISTINCT state FROM fcr_persons WHERE added_cycle <= $cycle
) WHERE state IS NOT NULL AND length(state) = 2 ORDER BY state;

-- name: cycles
-- title: Cycles up to and including this one
-- requires: cycles(cycle_id, as_of, status)
SELECT 'US' AS state, cycle_id, as_of, status FROM cycles WHERE cycle_id <= $cycle ORDER BY cycle_id;

-- name: fcr_registrations
-- title: FCR registrations on file (cases, persons by participant type, added/changed this cycle)
-- requires: fcr_persons(state, case_id, member_id, participant_type, status, added_cycle, changed_cycle)
SELECT CASE WHEN grouping(state) = 1 THEN 'US' ELSE state END AS state,
       count(DISTINCT state || '|' || case_id) AS cases,
       count(*) AS persons,
       count(*) FILTER (WHERE participant_type IN ('NP', 'PF')) AS noncustodial_parents,
       count(*) FILTER (WHERE participant_type = 'CP') AS custodial_parties,
       count(*) FILTER (WHERE participant_type = 'CH') AS children,
       count(*) FILTER (WHERE added_cycle = $cycle) AS added_this_cycle,
       count(*) FILTER (WHERE changed_cycle = $cycle AND added_cycle <> $cycle) AS changed_this_cycle
FROM fcr_persons
WHERE status = 'active' AND added_cycle <= $cycle
GROUP BY GROUPING SETS ((state), ())
ORDER BY state;

-- name: fcr_transactions
-- title: FCR person transactions received this cycle by action (A add, C change, D delete, L locate)
-- requires: fcr_person_input(cycle_id, state, action_type)
SELECT CASE WHEN grouping(state) = 1 THEN 'US' ELSE state END AS state,
       coalesce(action_type, '-') AS action_type, count(*) AS records
FROM fcr_person_input WHERE cycle_id = $cycle
GROUP BY GROUPING SETS ((state, action_type), (action_type))
ORDER BY state, action_type;

-- name: ssn_validity_mix
-- title: SSN validity codes returned this cycle (V verified, C corrected, E/P/S identified, N/R review, - unverified)
-- requires: ssn_validity_history(cycle_id, state, validity_code)
WITH g AS (
    SELECT CASE WHEN grouping(state) = 1 THEN 'US' ELSE state END AS state,
           coalesce(nullif(trim(validity_code), ''), '-') AS validity_code, count(*) AS persons
    FROM ssn_validity_history WHERE cycle_id = $cycle
    GROUP BY GROUPING SETS ((state, coalesce(nullif(trim(validity_code), ''), '-')),
                            (coalesce(nullif(trim(validity_code), ''), '-')))
)
SELECT state, validity_code, persons,
       round(100.0 * persons / sum(persons) OVER (PARTITION BY state), 1) AS share_pct
FROM g ORDER BY state, validity_code;

-- name: ndnh_matches
-- title: NDNH matches sent this cycle by source (H99 W-4, H98 QW, H97 UI, H01 none) and type (N, P, L)
-- requires: matches(cycle_id, state, match_type, source)
SELECT CASE WHEN grouping(state) = 1 THEN 'US' ELSE state END AS state,
       source,
       CASE source WHEN 'H99' THEN 'W-4 new hire' WHEN 'H98' THEN 'QW wages' WHEN 'H97' THEN 'UI claim'
                   WHEN 'H01' THEN 'no NDNH data' ELSE source END AS source_label,
       match_type, count(*) AS matches
FROM matches WHERE cycle_id = $cycle
GROUP BY GROUPING SETS ((state, source, match_type), (source, match_type))
ORDER BY state, source, match_type;

-- name: locate_hit_rate
-- title: Locate requests this cycle and the share answered with NDNH data (type L, source not H01)
-- requires: locate_requests(cycle_id, state, case_id, member_id) matches(cycle_id, state, case_id, member_id, match_type, source)
WITH r AS (SELECT DISTINCT state, case_id, member_id FROM locate_requests WHERE cycle_id = $cycle),
     h AS (SELECT DISTINCT state, case_id, member_id FROM matches
           WHERE cycle_id = $cycle AND match_type = 'L' AND source <> 'H01')
SELECT CASE WHEN grouping(r.state) = 1 THEN 'US' ELSE r.state END AS state,
       count(*) AS requests, count(h.member_id) AS hits,
       round(100.0 * count(h.member_id) / count(*), 1) AS hit_rate_pct
FROM r LEFT JOIN h ON h.state = r.state AND h.case_id = r.case_id AND h.member_id = r.member_id
GROUP BY GROUPING SETS ((r.state), ())
ORDER BY state;

-- name: file_quality
-- title: Files and records received this cycle per submitter (a state's page lists its own agency, SWA and SDNH)
-- requires: file_ledger(cycle_id, submitter, layout, status, records, accepted, rejected)
SELECT coalesce(CASE WHEN length(submitter) = 2 THEN submitter
                     WHEN submitter LIKE 'SWA-__' OR submitter LIKE 'SDNH-__' THEN right(submitter, 2) END,
                'US') AS state,
       submitter, coalesce(layout, '') AS layout, count(*) AS files,
       count(*) FILTER (WHERE status <> 'loaded') AS files_refused,
       CAST(coalesce(sum(records), 0) AS BIGINT) AS records,
       CAST(coalesce(sum(accepted), 0) AS BIGINT) AS accepted,
       CAST(coalesce(sum(rejected), 0) AS BIGINT) AS rejected,
       round(100.0 * coalesce(sum(rejected), 0) / greatest(coalesce(sum(records), 0), 1), 2) AS reject_rate_pct
FROM file_ledger WHERE cycle_id = $cycle
GROUP BY ALL ORDER BY state, submitter, layout;

-- name: reject_rates
-- title: Reject rate per state's submitters and nationally, this cycle
-- requires: file_ledger(cycle_id, submitter, status, records, rejected)
WITH f AS (
    SELECT CASE WHEN length(submitter) = 2 THEN submitter
                WHEN submitter LIKE 'SWA-__' OR submitter LIKE 'SDNH-__' THEN right(submitter, 2) END AS st,
           status, records, rejected
    FROM file_ledger WHERE cycle_id = $cycle
)
SELECT CASE WHEN grouping(st) = 1 THEN 'US' ELSE st END AS state,
       count(*) AS files, count(*) FILTER (WHERE status <> 'loaded') AS files_refused,
       CAST(coalesce(sum(records), 0) AS BIGINT) AS records,
       CAST(coalesce(sum(rejected), 0) AS BIGINT) AS rejected,
       round(100.0 * coalesce(sum(rejected), 0) / greatest(coalesce(sum(records), 0), 1), 2) AS reject_rate_pct
FROM f
GROUP BY GROUPING SETS ((st), ())
HAVING grouping(st) = 1 OR st IS NOT NULL
ORDER BY state;

-- name: rejects_by_code
-- title: Rejected records and refused files this cycle by error code
-- requires: rejects(file_id, code, severity) file_ledger(file_id, cycle_id, submitter)
WITH r AS (
    SELECT coalesce(CASE WHEN length(f.submitter) = 2 THEN f.submitter
                         WHEN f.submitter LIKE 'SWA-__' OR f.submitter LIKE 'SDNH-__' THEN right(f.submitter, 2) END,
                    '--') AS st, f.submitter, r.code
    FROM rejects r JOIN file_ledger f USING (file_id)
    WHERE f.cycle_id = $cycle AND coalesce(r.severity, 'E') = 'E'
)
SELECT CASE WHEN grouping(st) = 1 THEN 'US' ELSE st END AS state,
       CASE WHEN grouping(submitter) = 1 THEN '(all)' ELSE submitter END AS submitter,
       code, count(*) AS errors
FROM r
GROUP BY GROUPING SETS ((st, submitter, code), (code))
HAVING grouping(st) = 1 OR st <> '--'
ORDER BY state, submitter, errors DESC, code;

-- name: offset_submissions
-- title: Offset / passport debtor records submitted this cycle (file ledger)
-- requires: file_ledger(cycle_id, submitter, layout, records, accepted, rejected)
SELECT CASE WHEN grouping(submitter) = 1 THEN 'US' ELSE submitter END AS state,
       count(*) AS files,
       CAST(coalesce(sum(records), 0) AS BIGINT) AS records,
       CAST(coalesce(sum(accepted), 0) AS BIGINT) AS accepted,
       CAST(coalesce(sum(rejected), 0) AS BIGINT) AS rejected
FROM file_ledger WHERE cycle_id = $cycle AND layout = 'offset_debtor'
GROUP BY GROUPING SETS ((submitter), ()) ORDER BY state;

-- name: offset_certifications
-- title: Debts certified for federal offset (active registry after this cycle), by case type (A TANF, N non-TANF)
-- requires: debtors(state, case_type, arrearage, status, added_cycle)
SELECT CASE WHEN grouping(state) = 1 THEN 'US' ELSE state END AS state, case_type,
       count(*) AS debtors, CAST(sum(arrearage) AS BIGINT) AS arrears_dollars
FROM debtors WHERE status = 'active' AND added_cycle <= $cycle
GROUP BY GROUPING SETS ((state, case_type), (case_type)) ORDER BY state, case_type;

-- name: offset_rejects_by_code
-- title: Offset debtor transactions rejected this cycle, by OCSE reject code
-- requires: offset_results(cycle_id, submitting_state, status, error_codes)
WITH codes AS (SELECT submitting_state AS state, unnest(error_codes) AS reject_code
               FROM offset_results WHERE cycle_id = $cycle AND status = 'rejected')
SELECT CASE WHEN grouping(state) = 1 THEN 'US' ELSE state END AS state, reject_code, count(*) AS rejects
FROM codes GROUP BY GROUPING SETS ((state, reject_code), (reject_code)) ORDER BY state, reject_code;

-- name: passport_denials
-- title: Passport denials in force (state arrears, TANF + non-TANF, over $2,500 unless PAS excluded)
-- requires: passport_status(state, status, arrears, certified_cycle)
SELECT CASE WHEN grouping(state) = 1 THEN 'US' ELSE state END AS state,
       count(*) AS denials, CAST(sum(arrears) AS BIGINT) AS arrears_dollars
FROM passport_status WHERE status = 'certified' AND certified_cycle <= $cycle
GROUP BY GROUPING SETS ((state), ()) ORDER BY state;

-- name: msfidm_matches
-- title: MSFIDM account matches and balances (whole dollars)
-- requires: enforcement_matches(cycle_id, source, state, file_id, line_no) msfidm_accounts(file_id, line_no, account_balance)
SELECT CASE WHEN grouping(m.state) = 1 THEN 'US' ELSE m.state END AS state,
       count(*) AS matches, CAST(coalesce(sum(a.account_balance), 0) AS BIGINT) AS balance_dollars
FROM enforcement_matches m LEFT JOIN msfidm_accounts a USING (file_id, line_no)
WHERE m.cycle_id = $cycle AND m.source = 'msfidm'
GROUP BY GROUPING SETS ((m.state), ()) ORDER BY state;

-- name: insurance_matches
-- title: Insurance claim matches sent to states (automatic matches only; reviews stay in the queue)
-- requires: enforcement_matches(cycle_id, source, state)
SELECT CASE WHEN grouping(state) = 1 THEN 'US' ELSE state END AS state, count(*) AS matches
FROM enforcement_matches WHERE cycle_id = $cycle AND source = 'insurance'
GROUP BY GROUPING SETS ((state), ()) ORDER BY state;

-- name: debt_inquiry_matches
-- title: Debt-inquiry (lump-sum) matches
-- requires: enforcement_matches(cycle_id, source, state)
SELECT CASE WHEN grouping(state) = 1 THEN 'US' ELSE state END AS state, count(*) AS matches
FROM enforcement_matches WHERE cycle_id = $cycle AND source = 'debt_inquiry'
GROUP BY GROUPING SETS ((state), ()) ORDER BY state;

-- name: trends
-- title: Trends across cycles: registrations received, NDNH matches sent, records received and rejected
-- requires: cycles(cycle_id) fcr_person_input(cycle_id, state) matches(cycle_id, state) file_ledger(cycle_id, submitter, records, rejected)
WITH c AS (SELECT cycle_id FROM cycles WHERE cycle_id <= $cycle),
reg AS (SELECT cycle_id, state AS st, count(*) AS registrations FROM fcr_person_input GROUP BY ALL),
mat AS (SELECT cycle_id, state AS st, count(*) AS ndnh_matches FROM matches GROUP BY ALL),
led AS (SELECT cycle_id, CASE WHEN length(submitter) = 2 THEN submitter
                              WHEN submitter LIKE 'SWA-__' OR submitter LIKE 'SDNH-__' THEN right(submitter, 2) END AS st,
               sum(records) AS records, sum(rejected) AS rejected
        FROM file_ledger GROUP BY ALL),
keys AS (SELECT cycle_id, st FROM reg UNION SELECT cycle_id, st FROM mat UNION SELECT cycle_id, st FROM led WHERE st IS NOT NULL),
j AS (SELECT k.cycle_id, k.st, coalesce(registrations, 0) AS registrations, coalesce(ndnh_matches, 0) AS ndnh_matches,
             coalesce(records, 0) AS records, coalesce(rejected, 0) AS rejected
      FROM keys k JOIN c USING (cycle_id) LEFT JOIN reg USING (cycle_id, st) LEFT JOIN mat USING (cycle_id, st)
      LEFT JOIN led USING (cycle_id, st))
SELECT CASE WHEN grouping(st) = 1 THEN 'US' ELSE st END AS state, cycle_id,
       CAST(sum(registrations) AS BIGINT) AS registrations, CAST(sum(ndnh_matches) AS BIGINT) AS ndnh_matches,
       CAST(sum(records) AS BIGINT) AS records, CAST(sum(rejected) AS BIGINT) AS rejected,
       round(100.0 * sum(rejected) / greatest(sum(records), 1), 2) AS reject_rate_pct
FROM j GROUP BY GROUPING SETS ((st, cycle_id), (cycle_id)) ORDER BY state, cycle_id;
