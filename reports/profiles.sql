-- Tier two for caseworkers: each noncustodial parent's income profile (what the FPLS knows of his income
-- and assets), his ability to pay, how he pays, and the caseload segments that cross the two. Same block
-- format as queries.sql. Rules (constants in the SQL):
--
--   profile: the last 8 QW reporting periods present in the store (q1 = the latest), W-4 new hires and UI
--     benefits received in the last 365 days, MSFIDM account balances, insurance claims and lump sums
--     (Debt Inquiry) matched to him; "last seen" is the latest date any source reported him.
--   ability (class window: the latest 4 of those periods): steady = wages in the latest quarter and in at
--     least min(3, periods) of the 4, average wage per earning quarter >= $3,000 and at most 2 employers
--     (wages in the window or a W-4 hire in the last 365 days); none found = no wages in the window, no
--     W-4 hire and no UI benefit in the last 365 days; irregular = anything else. Balances, claims and lump
--     sums are assets, not income: shown, not used in the class.
--   documented income: the wages of the 4-quarter window plus UI of the last 365 days, per month (/ 12);
--     order share = the parent's monthly orders in the state / documented monthly income. An order above
--     40 % of documented income, or an order with no documented income at all, is flagged "review order"
--     (setting realistic obligations; federal withholding limits are 50-65 % of disposable earnings).
--   payment behaviour (the last 6 months before the snapshot, six 30-day periods; intercepts (OFF) are not
--     the parent's payments): not paying = paid < 10 % of what fell due (or nothing, on an arrears-only
--     case); withholding = paid in >= 4 of the 6 periods, >= 75 % of what fell due, mostly (>= 50 %) by
--     income withholding; voluntary = the same regularity, mostly paid by the parent himself; irregular =
--     anything else; no payment data = the state sent no payments file.
--   segment: behaviour x ability. "Hands-on service": ability irregular or none found (the ~25 % who lack
--     steady work); "automated enforcement": steady.

-- name: _ncp_income
-- title: Income profile per noncustodial parent (state, member) from the NDNH and enforcement matches
WITH cyc AS (SELECT as_of FROM cycles WHERE cycle_id = $cycle),
ncp AS (
    SELECT state, member_id, min(verified_ssn) AS ssn, min(first_name) AS first_name, min(last_name) AS last_name,
           count(DISTINCT case_id) AS cases
    FROM fcr_persons
    WHERE participant_type IN ('NP', 'PF') AND status = 'active' AND added_cycle <= $cycle
    GROUP BY state, member_id
),
periods AS (
    SELECT p, row_number() OVER (ORDER BY p DESC) AS idx FROM (
        SELECT DISTINCT reporting_period AS p FROM ndnh
        WHERE source = 'H98' AND cycle_id <= $cycle AND reporting_period IS NOT NULL)
    QUALIFY idx <= 8
),
npd AS (SELECT count(*) FILTER (WHERE idx <= 4) AS n_periods, max(p) AS last_period FROM periods),
qw AS (
    SELECT verified_ssn AS ssn, reporting_period AS p, sum(wage_amount) AS wages_cents
    FROM ndnh WHERE source = 'H98' AND cycle_id <= $cycle AND verified_ssn IN (SELECT ssn FROM ncp)
        AND reporting_period IN (SELECT p FROM periods)
    GROUP BY ALL HAVING sum(wage_amount) > 0
),
w AS (
    SELECT qw.ssn, count(*) FILTER (WHERE idx <= 4) AS quarters_with_earnings, count(*) AS quarters_of_8,
           sum(wages_cents) FILTER (WHERE idx <= 4) AS wages4_cents,
           sum(wages_cents) FILTER (WHERE idx = 1) AS last_quarter_cents,
           avg(wages_cents) FILTER (WHERE idx BETWEEN 2 AND 4) AS earlier_avg_cents,
           bool_or(idx = 1) AS earned_last_quarter, max(p) AS last_wage_period,
           sum(wages_cents) FILTER (WHERE idx = 1) AS q1, sum(wages_cents) FILTER (WHERE idx = 2) AS q2,
           sum(wages_cents) FILTER (WHERE idx = 3) AS q3, sum(wages_cents) FILTER (WHERE idx = 4) AS q4,
           sum(wages_cents) FILTER (WHERE idx = 5) AS q5, sum(wages_cents) FILTER (WHERE idx = 6) AS q6,
           sum(wages_cents) FILTER (WHERE idx = 7) AS q7, sum(wages_cents) FILTER (WHERE idx = 8) AS q8
    FROM qw JOIN periods USING (p) GROUP BY qw.ssn
),
emp AS (
    SELECT verified_ssn AS ssn, count(DISTINCT employer_fein) AS employers
    FROM ndnh, cyc
    WHERE cycle_id <= $cycle AND verified_ssn IN (SELECT ssn FROM ncp) AND employer_fein IS NOT NULL
      AND ((source = 'H98' AND wage_amount > 0
            AND reporting_period IN (SELECT p FROM periods WHERE idx <= 4))
           OR (source = 'H99' AND hire_date > cyc.as_of - INTERVAL 365 DAY AND hire_date <= cyc.as_of))
    GROUP BY ALL
),
hires AS (
    SELECT verified_ssn AS ssn, count(*) AS new_hires, max(hire_date) AS last_hire
    FROM ndnh, cyc WHERE source = 'H99' AND cycle_id <= $cycle AND verified_ssn IN (SELECT ssn FROM ncp)
        AND hire_date > cyc.as_of - INTERVAL 365 DAY AND hire_date <= cyc.as_of
    GROUP BY ALL
),
ui AS (
    SELECT verified_ssn AS ssn, sum(benefit_amount) AS ui_cents, max(received) AS last_ui FROM ndnh, cyc
    WHERE source = 'H97' AND cycle_id <= $cycle AND verified_ssn IN (SELECT ssn FROM ncp)
        AND received > cyc.as_of - INTERVAL 365 DAY AND received <= cyc.as_of
    GROUP BY ALL
),
fidm AS (
    SELECT m.ssn, a.account_balance AS balance_dollars, c.as_of AS last_fidm
    FROM (SELECT * FROM enforcement_matches WHERE source = 'msfidm' AND cycle_id <= $cycle
          QUALIFY row_number() OVER (PARTITION BY ssn, file_id, line_no ORDER BY cycle_id DESC) = 1) m
    JOIN msfidm_accounts a USING (file_id, line_no) JOIN cycles c ON c.cycle_id = a.cycle_id
    WHERE m.ssn IN (SELECT ssn FROM ncp)
    QUALIFY row_number() OVER (PARTITION BY m.ssn, a.submitter, a.account_number ORDER BY a.cycle_id DESC) = 1
),
fidm_sum AS (SELECT ssn, count(*) AS accounts, sum(balance_dollars) AS balance_dollars, max(last_fidm) AS last_fidm
             FROM fidm GROUP BY ssn),
ins AS (
    SELECT m.ssn, count(DISTINCT (i.file_id, i.line_no)) AS claims, max(i.processing_date) AS last_claim
    FROM enforcement_matches m JOIN insurance_claims i USING (file_id, line_no)
    WHERE m.source = 'insurance' AND m.cycle_id <= $cycle AND m.ssn IN (SELECT ssn FROM ncp) GROUP BY ALL
),
lump AS (
    SELECT m.ssn, count(DISTINCT (d.file_id, d.line_no)) AS lump_sums, sum(d.amount) AS lump_cents,
           max(d.payout_date) AS last_lump
    FROM enforcement_matches m JOIN debt_inquiries d USING (file_id, line_no)
    WHERE m.source = 'debt_inquiry' AND m.cycle_id <= $cycle AND m.ssn IN (SELECT ssn FROM ncp) GROUP BY ALL
),
prof AS (
    SELECT ncp.*, npd.n_periods AS quarters_in_window, npd.last_period,
           coalesce(w.quarters_with_earnings, 0) AS quarters_with_earnings,
           coalesce(w.quarters_of_8, 0) AS quarters_with_earnings_of_8,
           round(coalesce(w.wages4_cents, 0) / 100.0 / greatest(coalesce(w.quarters_with_earnings, 0), 1), 2)
               AS avg_quarter_wage,
           round(coalesce(w.last_quarter_cents, 0) / 100.0, 2) AS last_quarter_wage,
           coalesce(emp.employers, 0) AS employers_last_year,
           coalesce(hires.new_hires, 0) AS new_hires_last_year,
           round(coalesce(ui.ui_cents, 0) / 100.0, 2) AS ui_benefits,
           CASE WHEN w.earlier_avg_cents IS NULL OR w.earlier_avg_cents = 0 THEN 'n/a'
                WHEN coalesce(w.last_quarter_cents, 0) > 1.1 * w.earlier_avg_cents THEN 'rising'
                WHEN coalesce(w.last_quarter_cents, 0) < 0.9 * w.earlier_avg_cents THEN 'falling'
                ELSE 'flat' END AS wage_trend,
           coalesce(w.earned_last_quarter, FALSE) AS earned_last_quarter,
           round(coalesce(w.q1, 0) / 100.0) AS q1_wages, round(coalesce(w.q2, 0) / 100.0) AS q2_wages,
           round(coalesce(w.q3, 0) / 100.0) AS q3_wages, round(coalesce(w.q4, 0) / 100.0) AS q4_wages,
           round(coalesce(w.q5, 0) / 100.0) AS q5_wages, round(coalesce(w.q6, 0) / 100.0) AS q6_wages,
           round(coalesce(w.q7, 0) / 100.0) AS q7_wages, round(coalesce(w.q8, 0) / 100.0) AS q8_wages,
           coalesce(fidm_sum.accounts, 0) AS bank_accounts, coalesce(fidm_sum.balance_dollars, 0) AS bank_balance,
           coalesce(ins.claims, 0) AS insurance_claims, coalesce(lump.lump_sums, 0) AS lump_sums,
           round(coalesce(lump.lump_cents, 0) / 100.0, 2) AS lump_sum_amount,
           round((coalesce(w.wages4_cents, 0) + coalesce(ui.ui_cents, 0)) / 100.0 / 12, 2) AS documented_monthly_income,
           concat_ws(', ', CASE WHEN w.ssn IS NOT NULL THEN 'QW' END, CASE WHEN hires.ssn IS NOT NULL THEN 'W-4' END,
                     CASE WHEN ui.ssn IS NOT NULL THEN 'UI' END, CASE WHEN fidm_sum.ssn IS NOT NULL THEN 'MSFIDM' END,
                     CASE WHEN ins.ssn IS NOT NULL THEN 'insurance' END, CASE WHEN lump.ssn IS NOT NULL THEN 'lump sum' END)
               AS sources,
           greatest(CASE WHEN w.last_wage_period IS NOT NULL
                         THEN make_date(CAST(left(w.last_wage_period, 4) AS INTEGER),
                                        3 * CAST(right(w.last_wage_period, 1) AS INTEGER), 1) END,
                    hires.last_hire, ui.last_ui, fidm_sum.last_fidm, ins.last_claim, lump.last_lump) AS last_seen
    FROM ncp CROSS JOIN npd LEFT JOIN w USING (ssn) LEFT JOIN emp USING (ssn) LEFT JOIN hires USING (ssn)
        LEFT JOIN ui USING (ssn) LEFT JOIN fidm_sum USING (ssn) LEFT JOIN ins USING (ssn) LEFT JOIN lump USING (ssn)
)
SELECT *,
       CASE WHEN quarters_with_earnings = 0 AND new_hires_last_year = 0 AND ui_benefits = 0 THEN 'none_found'
            WHEN earned_last_quarter AND quarters_with_earnings >= least(3, quarters_in_window)
                 AND avg_quarter_wage >= 3000 AND employers_last_year <= 2 THEN 'steady'
            ELSE 'irregular' END AS ability_class
FROM prof

-- name: _ncp_behaviour
-- title: Payment behaviour per noncustodial parent (state, member) over the 6 months before the snapshot
WITH cur AS (SELECT * FROM ({{_casefin_snapshots}}) WHERE rn = 1),
due AS (SELECT state, member_id, sum(monthly_obligation) AS obligation_cents, max(as_of_date) AS as_of_date,
               sum(arrears) AS arrears_cents
        FROM cur GROUP BY ALL),
sent AS (SELECT DISTINCT state FROM payments WHERE cycle_id <= $cycle),
p AS (
    SELECT d.state, d.member_id, least(5, CAST(date_diff('day', p.payment_date, d.as_of_date) // 30.4 AS INTEGER)) AS slot,
           p.amount, p.payment_source
    FROM payments p JOIN due d ON d.state = p.state AND d.member_id = p.member_id
    WHERE p.cycle_id <= $cycle AND p.payment_date <= d.as_of_date AND p.payment_date > d.as_of_date - 182
),
agg AS (
    SELECT state, member_id,
           count(DISTINCT slot) FILTER (WHERE payment_source <> 'OFF') AS periods_paid,
           coalesce(sum(amount) FILTER (WHERE payment_source <> 'OFF'), 0) AS paid_cents,
           coalesce(sum(amount) FILTER (WHERE payment_source = 'IWO'), 0) AS iwo_cents,
           coalesce(sum(amount) FILTER (WHERE payment_source = 'OFF'), 0) AS intercepted_cents
    FROM p GROUP BY ALL
)
SELECT d.state, d.member_id, d.obligation_cents, d.arrears_cents,
       coalesce(a.periods_paid, 0) AS periods_paid_of_6, coalesce(a.paid_cents, 0) AS paid_cents,
       coalesce(a.iwo_cents, 0) AS iwo_cents, coalesce(a.intercepted_cents, 0) AS intercepted_cents,
       CASE WHEN d.obligation_cents > 0 THEN round(100.0 * coalesce(a.paid_cents, 0) / (6 * d.obligation_cents), 1)
            END AS paid_pct_of_due,
       CASE WHEN d.state NOT IN (SELECT state FROM sent) THEN 'no_payment_data'
            WHEN (d.obligation_cents > 0 AND coalesce(a.paid_cents, 0) < 0.1 * 6 * d.obligation_cents)
                 OR (d.obligation_cents <= 0 AND coalesce(a.paid_cents, 0) = 0) THEN 'not_paying'
            WHEN coalesce(a.periods_paid, 0) >= 4
                 AND (d.obligation_cents <= 0 OR a.paid_cents >= 0.75 * 6 * d.obligation_cents)
                 THEN CASE WHEN a.iwo_cents >= 0.5 * a.paid_cents THEN 'withholding' ELSE 'voluntary' END
            ELSE 'irregular' END AS behaviour
FROM due d LEFT JOIN agg a USING (state, member_id)

-- name: _ncp_segments
-- title: Income profile x payment behaviour per noncustodial parent on the state's case financial summary
SELECT i.*, b.obligation_cents, round(b.obligation_cents / 100.0, 2) AS monthly_order, b.arrears_cents, b.periods_paid_of_6, b.paid_pct_of_due, b.intercepted_cents,
       coalesce(b.behaviour, 'no_payment_data') AS behaviour,
       CASE WHEN i.ability_class = 'steady' THEN 'automated enforcement' ELSE 'hands-on service' END AS service,
       CASE WHEN i.documented_monthly_income > 0
            THEN round(100.0 * b.obligation_cents / 100.0 / i.documented_monthly_income, 1) END AS order_share_pct,
       coalesce(b.obligation_cents, 0) > 0 AND (i.documented_monthly_income = 0
           OR b.obligation_cents / 100.0 > 0.4 * i.documented_monthly_income) AS review_order
FROM ({{_ncp_income}}) i JOIN ({{_ncp_behaviour}}) b USING (state, member_id)

-- name: income_profiles
-- title: Income profile, ability and payment behaviour of every noncustodial parent on the case financial summary (8 quarters of QW, W-4, UI, MSFIDM, insurance, lump sums)
-- requires: cycles(cycle_id, as_of) fcr_persons(state, member_id, case_id, participant_type, status, added_cycle, verified_ssn) ndnh(cycle_id, source, verified_ssn, reporting_period, wage_amount, benefit_amount, employer_fein, hire_date, received) case_financial(cycle_id, state, case_id, member_id, monthly_obligation, arrears, as_of_date) payments(cycle_id, state, member_id, payment_date, amount, payment_source)
SELECT state, member_id, ssn, first_name, last_name, cases, ability_class, behaviour, service,
       monthly_order, documented_monthly_income, order_share_pct, review_order,
       quarters_in_window, last_period, quarters_with_earnings, quarters_with_earnings_of_8, avg_quarter_wage,
       last_quarter_wage, wage_trend, q1_wages, q2_wages, q3_wages, q4_wages, q5_wages, q6_wages, q7_wages, q8_wages,
       employers_last_year, new_hires_last_year, ui_benefits, bank_accounts, bank_balance, insurance_claims, lump_sums,
       lump_sum_amount, sources, last_seen, periods_paid_of_6, paid_pct_of_due,
       round(arrears_cents / 100.0, 2) AS arrears
FROM ({{_ncp_segments}}) ORDER BY state, member_id;

-- name: segmentation
-- title: Caseload segments: payment behaviour x ability to pay (noncustodial parents on the case financial summary)
-- requires: cycles(cycle_id, as_of) fcr_persons(state, member_id, case_id, participant_type, status, added_cycle, verified_ssn) ndnh(cycle_id, source, verified_ssn, reporting_period, wage_amount, benefit_amount, employer_fein, hire_date, received) case_financial(cycle_id, state, case_id, member_id, monthly_obligation, arrears, as_of_date) payments(cycle_id, state, member_id, payment_date, amount, payment_source)
WITH p AS ({{_ncp_segments}}),
g AS (
    SELECT CASE WHEN grouping(state) = 1 THEN 'US' ELSE state END AS state, behaviour, ability_class,
           count(*) AS ncps, count(*) FILTER (WHERE review_order) AS review_order,
           CAST(round(sum(arrears_cents) / 100.0) AS BIGINT) AS arrears_dollars
    FROM p GROUP BY GROUPING SETS ((state, behaviour, ability_class), (behaviour, ability_class))
)
SELECT state, behaviour, ability_class,
       CASE WHEN ability_class = 'steady' THEN 'automated enforcement' ELSE 'hands-on service' END AS service,
       ncps, round(100.0 * ncps / sum(ncps) OVER (PARTITION BY state), 1) AS share_pct, review_order, arrears_dollars
FROM g ORDER BY state,
    CASE behaviour WHEN 'withholding' THEN 1 WHEN 'voluntary' THEN 2 WHEN 'irregular' THEN 3 WHEN 'not_paying' THEN 4 ELSE 5 END,
    CASE ability_class WHEN 'steady' THEN 1 WHEN 'irregular' THEN 2 ELSE 3 END;

-- name: segment_summary
-- title: Ability to pay and unrealistic orders by state: the share needing hands-on service and orders to review
-- requires: cycles(cycle_id, as_of) fcr_persons(state, member_id, case_id, participant_type, status, added_cycle, verified_ssn) ndnh(cycle_id, source, verified_ssn, reporting_period, wage_amount, benefit_amount, employer_fein, hire_date, received) case_financial(cycle_id, state, case_id, member_id, monthly_obligation, arrears, as_of_date) payments(cycle_id, state, member_id, payment_date, amount, payment_source)
WITH p AS ({{_ncp_segments}})
SELECT CASE WHEN grouping(state) = 1 THEN 'US' ELSE state END AS state, count(*) AS ncps,
       count(*) FILTER (WHERE ability_class = 'steady') AS steady,
       count(*) FILTER (WHERE ability_class = 'irregular') AS irregular,
       count(*) FILTER (WHERE ability_class = 'none_found') AS none_found,
       round(100.0 * count(*) FILTER (WHERE service = 'hands-on service') / greatest(count(*), 1), 1) AS hands_on_pct,
       count(*) FILTER (WHERE review_order) AS orders_to_review,
       round(100.0 * count(*) FILTER (WHERE behaviour IN ('withholding', 'voluntary')) / greatest(count(*), 1), 1)
           AS paying_regularly_pct
FROM p GROUP BY GROUPING SETS ((state), ()) ORDER BY state;
