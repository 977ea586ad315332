-- Caseload analytics: early intervention (Oklahoma ASAP) and payment-stop alerts. Same block format as queries.sql; `{{_name}}` inserts the fragment `_name` (a block
-- whose name starts with an underscore is a fragment, not a metric).
--
-- Rules (constants are in the SQL so the numbers can be re-derived by hand):
--   ASAP delinquent ("at least 60 days in arrears", counted first in, first out): support falls due on the
--     1st of each month; payments pay the oldest debt first, so the arrears on the snapshot are the k most
--     recent installments, k = ceil(arrears / monthly obligation) (a partial payment leaves its installment
--     unpaid). The oldest unpaid installment fell due on the 1st of the snapshot's month minus (k - 1)
--     months; days in arrears = snapshot date - that due date; delinquent when >= 60. A case with arrears
--     and no current obligation (arrears only): days since the last payment, never paid = delinquent.
--   passport risk: the NCP's arrears in the state, TANF and non-TANF summed, over $2,500.
--   payment-stop alert: paying at the previous snapshot (last payment <= 35 days before it) and not paying
--     now (> 35 days); without a previous snapshot: last payment 36-59 days ago (missed the latest month,
--     not yet 60 days delinquent).
--   Income profiles, ability to pay and payment behaviour: reports/profiles.sql.

-- name: _casefin_snapshots
-- title: Case financial snapshots up to this cycle, newest first per case/NCP (rn = 1 current, 2 previous)
SELECT cf.*,
       CASE WHEN last_payment_date IS NULL THEN NULL ELSE date_diff('day', last_payment_date, as_of_date) END
           AS days_since_payment,
       row_number() OVER (PARTITION BY state, case_id, member_id ORDER BY as_of_date DESC, file_id DESC, line_no DESC) AS rn
FROM case_financial cf WHERE cycle_id <= $cycle

-- name: _case_delinquency
-- title: Each case's latest snapshot up to this cycle with its days in arrears (first in, first out)
SELECT *,
       CASE WHEN coalesce(arrears, 0) <= 0 THEN NULL
            WHEN coalesce(monthly_obligation, 0) <= 0 THEN NULL
            ELSE CAST(CAST(date_trunc('month', as_of_date) AS DATE)
                 - to_months(CAST(least((arrears + monthly_obligation - 1) // monthly_obligation, 1200) AS INTEGER) - 1)
                 AS DATE)
       END AS oldest_unpaid_due
FROM ({{_casefin_snapshots}}) WHERE rn = 1

-- name: _case_arrears_age
-- title: _case_delinquency with days_delinquent and the delinquent flag (>= 60 days in arrears)
SELECT *,
       CASE WHEN coalesce(arrears, 0) <= 0 THEN 0
            WHEN oldest_unpaid_due IS NOT NULL THEN date_diff('day', oldest_unpaid_due, as_of_date)
            ELSE days_since_payment END AS days_delinquent,
       coalesce(arrears, 0) > 0 AND CASE WHEN oldest_unpaid_due IS NOT NULL
                                             THEN date_diff('day', oldest_unpaid_due, as_of_date) >= 60
                                         ELSE coalesce(days_since_payment >= 60, TRUE) END AS delinquent
FROM ({{_case_delinquency}})

-- name: _ncp_delinquency
-- title: One row per NCP and state: arrears summed over the state's cases, the oldest debt, delinquent >= 60 days
SELECT state, member_id, min(ncp_ssn) AS ncp_ssn, min(ncp_first_name) AS first_name, min(ncp_last_name) AS last_name,
       string_agg(case_id, ', ' ORDER BY case_id) AS case_ids, min(case_id) AS first_case_id,
       count(*) AS cases, sum(arrears) AS arrears_cents, sum(monthly_obligation) AS obligation_cents,
       max(days_delinquent) FILTER (WHERE delinquent) AS days_delinquent,
       min(oldest_unpaid_due) FILTER (WHERE delinquent) AS oldest_unpaid_due,
       max(last_payment_date) AS last_payment_date, max(as_of_date) AS as_of_date,
       bool_or(delinquent) AS delinquent, sum(arrears) > 250000 AS passport_risk
FROM ({{_case_arrears_age}}) GROUP BY state, member_id

-- name: asap_summary
-- title: Early intervention (ASAP): NCP cases on the case financial summary, delinquent >= 60 days, alerts
-- requires: case_financial(cycle_id, file_id, line_no, state, case_id, member_id, arrears, last_payment_date, as_of_date, case_type)
WITH s AS ({{_casefin_snapshots}}),
cur AS ({{_case_arrears_age}}),
prev AS (SELECT * FROM s WHERE rn = 2),
flags AS (
    SELECT cur.state, cur.member_id, cur.arrears, cur.delinquent,
           (prev.member_id IS NOT NULL AND coalesce(prev.days_since_payment, 100000) <= 35
                AND coalesce(cur.days_since_payment, 100000) > 35)
           OR (prev.member_id IS NULL AND cur.days_since_payment BETWEEN 36 AND 59) AS alert
    FROM cur LEFT JOIN prev USING (state, case_id, member_id)
),
ncp AS (SELECT state, member_id, sum(arrears) AS arrears FROM flags GROUP BY ALL)
SELECT CASE WHEN grouping(f.state) = 1 THEN 'US' ELSE f.state END AS state,
       count(*) AS ncp_cases,
       count(DISTINCT f.state || '|' || f.member_id) AS ncps,
       count(*) FILTER (WHERE delinquent) AS delinquent_cases,
       count(DISTINCT f.state || '|' || f.member_id) FILTER (WHERE delinquent) AS letters,
       CAST(coalesce(round(sum(f.arrears) FILTER (WHERE delinquent) / 100.0), 0) AS BIGINT) AS delinquent_arrears_dollars,
       count(DISTINCT f.state || '|' || f.member_id) FILTER (WHERE delinquent AND ncp.arrears > 250000)
           AS passport_risk_ncps,
       count(*) FILTER (WHERE alert) AS payment_stop_alerts
FROM flags f JOIN ncp USING (state, member_id)
GROUP BY GROUPING SETS ((f.state), ()) ORDER BY state;

-- name: asap_worklist
-- title: ASAP worklist: cases of NCPs at least 60 days in arrears (one row per case, oldest unpaid installment first in, first out)
-- requires: case_financial(cycle_id, file_id, line_no, state, case_id, member_id, ncp_ssn, ncp_first_name, ncp_last_name, case_type, monthly_obligation, arrears, last_payment_date, last_payment_amount, as_of_date)
SELECT state, member_id, ncp_ssn, ncp_first_name, ncp_last_name, case_id, case_type,
       round(monthly_obligation / 100.0, 2) AS monthly_obligation, round(arrears / 100.0, 2) AS arrears,
       oldest_unpaid_due, days_delinquent, last_payment_date, days_since_payment,
       as_of_date, sum(arrears) OVER (PARTITION BY state, member_id) > 250000 AS passport_risk
FROM ({{_case_arrears_age}}) WHERE delinquent
ORDER BY state, member_id, case_id;

-- name: payment_alerts
-- title: Payment-stop alerts: previously paying NCPs whose payments stopped (early intervention)
-- requires: case_financial(cycle_id, file_id, line_no, state, case_id, member_id, ncp_ssn, ncp_first_name, ncp_last_name, monthly_obligation, arrears, last_payment_date, last_payment_amount, as_of_date)
WITH s AS ({{_casefin_snapshots}}),
cur AS (SELECT * FROM s WHERE rn = 1),
prev AS (SELECT * FROM s WHERE rn = 2)
SELECT cur.state, cur.member_id, cur.ncp_ssn, cur.ncp_first_name, cur.ncp_last_name, cur.case_id,
       round(cur.monthly_obligation / 100.0, 2) AS monthly_obligation, round(cur.arrears / 100.0, 2) AS arrears,
       cur.last_payment_date, round(cur.last_payment_amount / 100.0, 2) AS last_payment_amount,
       cur.days_since_payment,
       CASE WHEN prev.member_id IS NULL THEN 'missed latest month' ELSE 'stopped since previous snapshot' END AS alert
FROM cur LEFT JOIN prev USING (state, case_id, member_id)
WHERE (prev.member_id IS NOT NULL AND coalesce(prev.days_since_payment, 100000) <= 35
       AND coalesce(cur.days_since_payment, 100000) > 35)
   OR (prev.member_id IS NULL AND cur.days_since_payment BETWEEN 36 AND 59)
ORDER BY cur.state, cur.member_id, cur.case_id;
