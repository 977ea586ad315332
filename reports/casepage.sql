-- The printable "financial situation" of one case's noncustodial parent (reports/casepage.py): every block
-- below is run with $cycle, $state and $case (the state's case ID). Same block format as queries.sql; the
-- blocks are not metrics of the statistical pages (no national rows), so each requires its tables itself.
-- Family violence (DESIGN §8): a parent flagged FV by another state has his employers' names withheld.

-- name: _case_ncp
-- title: The noncustodial parent of the case (first NP / PF member), his verified SSN and FV flag
SELECT p.state, p.case_id, p.member_id, p.first_name, p.last_name, p.verified_ssn AS ssn, p.ssn AS submitted_ssn,
       EXISTS (SELECT 1 FROM fcr_persons f WHERE f.verified_ssn = p.verified_ssn AND f.status = 'active'
               AND f.family_violence = 'FV' AND f.state <> p.state) AS fv_elsewhere
FROM fcr_persons p
WHERE p.state = $state AND p.case_id = $case AND p.participant_type IN ('NP', 'PF') AND p.added_cycle <= $cycle
ORDER BY p.status, p.member_id LIMIT 1

-- name: case_header
-- title: The parent
-- params: state, case
-- requires: fcr_persons(state, case_id, member_id, participant_type, verified_ssn, family_violence, added_cycle) cycles(cycle_id, as_of)
SELECT n.state, n.member_id, n.first_name, n.last_name, coalesce(n.ssn, n.submitted_ssn) AS ncp_ssn, n.fv_elsewhere,
       (SELECT as_of FROM cycles WHERE cycle_id = $cycle) AS as_of
FROM ({{_case_ncp}}) n

-- name: case_orders
-- title: The parent's cases in this state: order, arrears and age of the debt (first in, first out)
-- params: state, case
-- requires: case_financial(cycle_id, file_id, line_no, state, case_id, member_id, monthly_obligation, arrears, last_payment_date, as_of_date)
SELECT a.state, a.case_id, a.case_type, round(a.monthly_obligation / 100.0, 2) AS monthly_order,
       round(a.arrears / 100.0, 2) AS arrears, a.oldest_unpaid_due, a.days_delinquent, a.delinquent,
       a.last_payment_date, round(a.last_payment_amount / 100.0, 2) AS last_payment_amount, a.as_of_date
FROM ({{_case_arrears_age}}) a JOIN ({{_case_ncp}}) n ON n.state = a.state AND n.member_id = a.member_id
ORDER BY a.case_id

-- name: case_payments
-- title: Payments of the last 12 months by month and source (IWO withholding, VOL by the parent, OFF intercept, OTH)
-- params: state, case
-- requires: payments(cycle_id, state, case_id, member_id, payment_date, amount, payment_source) cycles(cycle_id, as_of)
WITH n AS ({{_case_ncp}}), cyc AS (SELECT as_of FROM cycles WHERE cycle_id = $cycle)
SELECT p.state, strftime(p.payment_date, '%Y-%m') AS month,
       round(coalesce(sum(amount) FILTER (WHERE payment_source = 'IWO'), 0) / 100.0, 2) AS withholding,
       round(coalesce(sum(amount) FILTER (WHERE payment_source = 'VOL'), 0) / 100.0, 2) AS voluntary,
       round(coalesce(sum(amount) FILTER (WHERE payment_source = 'OFF'), 0) / 100.0, 2) AS intercepted,
       round(coalesce(sum(amount) FILTER (WHERE payment_source = 'OTH'), 0) / 100.0, 2) AS other,
       round(sum(amount) / 100.0, 2) AS total, count(*) AS payments
FROM payments p, n, cyc
WHERE p.state = n.state AND p.member_id = n.member_id AND p.cycle_id <= $cycle
  AND p.payment_date > cyc.as_of - INTERVAL 365 DAY AND p.payment_date <= cyc.as_of
GROUP BY ALL ORDER BY month

-- name: case_profile
-- title: Income profile, ability to pay and payment behaviour (reports/profiles.sql)
-- params: state, case
-- requires: fcr_persons(state, member_id) case_financial(state, member_id) payments(state, member_id) ndnh(verified_ssn)
SELECT s.* FROM ({{_ncp_segments}}) s JOIN ({{_case_ncp}}) n ON n.state = s.state AND n.member_id = s.member_id

-- name: case_wages
-- title: Quarterly wages (QW) of the last 8 reporting periods, by employer
-- params: state, case
-- requires: ndnh(cycle_id, source, verified_ssn, reporting_period, wage_amount, employer_name, employer_state)
WITH n AS ({{_case_ncp}}),
periods AS (SELECT p FROM (SELECT DISTINCT reporting_period AS p FROM ndnh
                           WHERE source = 'H98' AND cycle_id <= $cycle AND reporting_period IS NOT NULL)
            ORDER BY p DESC LIMIT 8)
SELECT $state AS state, q.reporting_period AS quarter,
       CASE WHEN n.fv_elsewhere THEN 'withheld (family violence)' ELSE coalesce(q.employer_name, '(name not reported)') END
           AS employer,
       CASE WHEN n.fv_elsewhere THEN NULL ELSE q.employer_state END AS employer_state,
       round(sum(q.wage_amount) / 100.0, 2) AS wages
FROM ndnh q, n
WHERE q.source = 'H98' AND q.cycle_id <= $cycle AND q.verified_ssn = n.ssn AND q.reporting_period IN (SELECT p FROM periods)
GROUP BY ALL ORDER BY quarter DESC, wages DESC

-- name: case_other_income
-- title: New hires, UI benefits, bank accounts, insurance claims and lump sums reported for the parent
-- params: state, case
-- requires: ndnh(cycle_id, source, verified_ssn, hire_date, received, benefit_amount, employer_name) enforcement_matches(cycle_id, source, ssn, file_id, line_no) msfidm_accounts(file_id, line_no, account_balance, account_type) insurance_claims(file_id, line_no, processing_date, insurer_name, claim_type) debt_inquiries(file_id, line_no, payer_name, payment_type, amount, payout_date)
WITH n AS ({{_case_ncp}})
SELECT $state AS state, kind, reported, detail, amount FROM (
    SELECT 'W-4 new hire' AS kind, h.hire_date AS reported,
           CASE WHEN n.fv_elsewhere THEN 'employer withheld (family violence)' ELSE h.employer_name END AS detail,
           NULL::DOUBLE AS amount
    FROM ndnh h, n WHERE h.source = 'H99' AND h.cycle_id <= $cycle AND h.verified_ssn = n.ssn
    UNION ALL
    SELECT 'UI benefit', u.received, 'quarter ' || coalesce(u.reporting_period, ''), round(u.benefit_amount / 100.0, 2)
    FROM ndnh u, n WHERE u.source = 'H97' AND u.cycle_id <= $cycle AND u.verified_ssn = n.ssn
    UNION ALL
    SELECT 'bank account (MSFIDM)', c.as_of, 'account type ' || coalesce(a.account_type, '?') || ' at ' || a.submitter,
           CAST(a.account_balance AS DOUBLE)
    FROM enforcement_matches m JOIN msfidm_accounts a USING (file_id, line_no) JOIN cycles c ON c.cycle_id = a.cycle_id, n
    WHERE m.source = 'msfidm' AND m.cycle_id <= $cycle AND m.ssn = n.ssn
    UNION ALL
    SELECT 'insurance claim', i.processing_date, coalesce(i.insurer_name, '') || ' ' || coalesce(i.claim_type, ''), NULL
    FROM enforcement_matches m JOIN insurance_claims i USING (file_id, line_no), n
    WHERE m.source = 'insurance' AND m.cycle_id <= $cycle AND m.ssn = n.ssn
    UNION ALL
    SELECT 'lump sum (Debt Inquiry)', d.payout_date, coalesce(d.payer_name, '') || ' ' || coalesce(d.payment_type, ''),
           round(d.amount / 100.0, 2)
    FROM enforcement_matches m JOIN debt_inquiries d USING (file_id, line_no), n
    WHERE m.source = 'debt_inquiry' AND m.cycle_id <= $cycle AND m.ssn = n.ssn
) ORDER BY reported DESC NULLS LAST, kind

-- name: case_contacts
-- title: Early intervention: letters and contacts
-- params: state, case
-- requires: asap_letters(state, member_id, cycle_id, mail_date, status) contact_outcomes(cycle_id, state, member_id, contact_date, outcome, amount)
WITH n AS ({{_case_ncp}})
SELECT $state AS state, event_date, event, detail FROM (
    SELECT l.mail_date AS event_date,
           CASE WHEN l.status = 'mailed' THEN 'letter mailed' ELSE 'no address, locate requested' END AS event,
           coalesce(l.address_source || ' (' || CAST(l.address_date AS VARCHAR) || ')', l.reason) AS detail
    FROM asap_letters l, n WHERE l.state = n.state AND l.member_id = n.member_id AND l.cycle_id <= $cycle
    UNION ALL
    SELECT o.contact_date, lower(o.outcome),
           CASE WHEN o.amount IS NOT NULL THEN '$' || CAST(round(o.amount / 100.0, 2) AS VARCHAR) END
    FROM contact_outcomes o, n WHERE o.state = n.state AND o.member_id = n.member_id AND o.cycle_id <= $cycle
) ORDER BY event_date DESC
