-- Reports over time (reports/periodic.py): the monthly NDNH report, the monthly MSER report and the
-- semi-annual State Profile the Child Support Portal's State Statistical Reporting System gives the states.
-- Every block takes $start and $end (the first and last day of the month or half-year): a cycle belongs
-- to the period when its date (as_of) falls in it. Trend blocks look back 12 months from $end.
-- Conventions as in queries.sql (a `state` column; 'US' rows are national totals).
--
-- State of an NDNH record: the state agency that sent it (SDNH-XX, SWA-XX); a W-4 a multistate employer
-- sent directly (EMP-<FEIN>) counts for the employer's state on the record.

-- name: _period_cycles
-- title: The cycles of the period
SELECT cycle_id, as_of FROM cycles WHERE as_of BETWEEN $start AND $end AND status = 'done'

-- name: _ndnh_files
-- title: NDNH files loaded, with their source, state (the sending agency, or the multistate employer's state) and month
SELECT f.cycle_id, f.file_id, f.submitter, f.status, f.records, f.rejected,
       CASE f.layout WHEN 'ndnh_w4' THEN 'H99' WHEN 'new_hire_csv' THEN 'H99' WHEN 'ndnh_qw' THEN 'H98'
                     WHEN 'ndnh_ui' THEN 'H97' END AS source,
       coalesce(CASE WHEN f.submitter LIKE 'SDNH-__' OR f.submitter LIKE 'SWA-__' THEN right(f.submitter, 2) END,
                (SELECT min(n.employer_state) FROM ndnh n WHERE n.file_id = f.file_id)) AS st,
       f.submitter LIKE 'EMP-%' AS direct, strftime(c.as_of, '%Y-%m') AS month
FROM file_ledger f JOIN cycles c USING (cycle_id)
WHERE f.layout IN ('ndnh_w4', 'new_hire_csv', 'ndnh_qw', 'ndnh_ui')

-- name: _ndnh_loaded
-- title: NDNH records loaded per file (wage, new-hire and UI records; not the QW employer records)
SELECT file_id, count(*) AS loaded FROM ndnh GROUP BY file_id

-- name: ndnh_received
-- title: NDNH records received in the month by state and source (W-4 new hires, QW wages, UI claims): loaded, rejected, matched to an FCR person
-- params: start, end
-- requires: file_ledger(cycle_id, file_id, submitter, layout, status, records, rejected) ndnh(file_id, source, employer_state) matches(cycle_id, state, source, ndnh_id)
WITH f AS (SELECT * FROM ({{_ndnh_files}}) WHERE cycle_id IN (SELECT cycle_id FROM ({{_period_cycles}}))),
g AS (SELECT f.st, f.source, sum(coalesce(l.loaded, 0)) AS records, sum(f.rejected) AS rejected,
             sum(coalesce(l.loaded, 0)) FILTER (WHERE f.direct) AS from_multistate_employers
      FROM f LEFT JOIN ({{_ndnh_loaded}}) l USING (file_id) WHERE f.st IS NOT NULL GROUP BY ALL),
matched AS (SELECT m.state AS st, m.source, count(DISTINCT m.ndnh_id) AS matched, count(*) AS fn_sent
            FROM matches m WHERE m.cycle_id IN (SELECT cycle_id FROM ({{_period_cycles}})) AND m.ndnh_id IS NOT NULL
            GROUP BY ALL),
j AS (SELECT coalesce(g.st, m.st) AS st, coalesce(g.source, m.source) AS source, coalesce(g.records, 0) AS records,
             coalesce(g.rejected, 0) AS rejected, coalesce(g.from_multistate_employers, 0) AS from_multistate_employers,
             coalesce(m.matched, 0) AS matched_records, coalesce(m.fn_sent, 0) AS fn_records_sent
      FROM g FULL JOIN matched m ON m.st = g.st AND m.source = g.source)
SELECT CASE WHEN grouping(st) = 1 THEN 'US' ELSE st END AS state, source,
       CASE source WHEN 'H99' THEN 'W-4 new hire' WHEN 'H98' THEN 'QW wages' WHEN 'H97' THEN 'UI claim' ELSE source END
           AS source_label,
       CAST(sum(records) AS BIGINT) AS records_loaded, CAST(sum(rejected) AS BIGINT) AS records_rejected,
       CAST(sum(from_multistate_employers) AS BIGINT) AS from_multistate_employers,
       CAST(sum(matched_records) AS BIGINT) AS matched_records, CAST(sum(fn_records_sent) AS BIGINT) AS fn_records_sent
FROM j GROUP BY GROUPING SETS ((st, source), (source)) ORDER BY state, source;

-- name: ndnh_trend
-- title: NDNH over the last 12 months: records loaded and FN match records sent, by month and source
-- params: start, end
-- requires: file_ledger(cycle_id, file_id, submitter, layout, records) ndnh(file_id) matches(cycle_id, state, source, ndnh_id)
WITH f AS (SELECT * FROM ({{_ndnh_files}})
           WHERE month > strftime(CAST($end AS DATE) - INTERVAL 12 MONTH, '%Y-%m') AND month <= strftime(CAST($end AS DATE), '%Y-%m')),
rec AS (SELECT f.month, f.st, f.source, sum(coalesce(l.loaded, 0)) AS records
        FROM f LEFT JOIN ({{_ndnh_loaded}}) l USING (file_id) WHERE f.st IS NOT NULL GROUP BY ALL),
mat AS (SELECT strftime(c.as_of, '%Y-%m') AS month, m.state AS st, m.source, count(*) AS fn_sent
        FROM matches m JOIN cycles c USING (cycle_id)
        WHERE c.as_of > CAST($end AS DATE) - INTERVAL 12 MONTH AND c.as_of <= $end AND m.ndnh_id IS NOT NULL GROUP BY ALL),
j AS (SELECT coalesce(r.month, m.month) AS month, coalesce(r.st, m.st) AS st, coalesce(r.source, m.source) AS source,
             coalesce(r.records, 0) AS records, coalesce(m.fn_sent, 0) AS fn_sent
      FROM rec r FULL JOIN mat m ON m.month = r.month AND m.st = r.st AND m.source = r.source)
SELECT CASE WHEN grouping(st) = 1 THEN 'US' ELSE st END AS state, month, source,
       CASE source WHEN 'H99' THEN 'W-4 new hire' WHEN 'H98' THEN 'QW wages' WHEN 'H97' THEN 'UI claim' ELSE source END
           AS source_label,
       CAST(sum(records) AS BIGINT) AS records, CAST(sum(fn_sent) AS BIGINT) AS fn_records_sent
FROM j GROUP BY GROUPING SETS ((st, month, source), (month, source)) ORDER BY state, month, source;

-- name: ndnh_cycles
-- title: NDNH per cycle of the month: records loaded by source, FN match records sent by type
-- params: start, end
-- requires: file_ledger(cycle_id, submitter, layout, records) matches(cycle_id, state, match_type, source)
WITH f AS (SELECT f.*, coalesce(l.loaded, 0) AS loaded FROM ({{_ndnh_files}}) f LEFT JOIN ({{_ndnh_loaded}}) l USING (file_id)
           WHERE f.cycle_id IN (SELECT cycle_id FROM ({{_period_cycles}})) AND f.st IS NOT NULL),
rec AS (SELECT cycle_id, st, sum(loaded) FILTER (WHERE source = 'H99') AS w4, sum(loaded) FILTER (WHERE source = 'H98') AS qw,
               sum(loaded) FILTER (WHERE source = 'H97') AS ui FROM f GROUP BY ALL),
mat AS (SELECT cycle_id, state AS st, count(*) FILTER (WHERE match_type = 'N') AS type_n,
               count(*) FILTER (WHERE match_type = 'P') AS type_p, count(*) FILTER (WHERE match_type = 'L') AS type_l
        FROM matches WHERE cycle_id IN (SELECT cycle_id FROM ({{_period_cycles}})) GROUP BY ALL),
j AS (SELECT coalesce(r.cycle_id, m.cycle_id) AS cycle_id, coalesce(r.st, m.st) AS st, coalesce(w4, 0) AS w4,
             coalesce(qw, 0) AS qw, coalesce(ui, 0) AS ui, coalesce(type_n, 0) AS type_n, coalesce(type_p, 0) AS type_p,
             coalesce(type_l, 0) AS type_l
      FROM rec r FULL JOIN mat m ON m.cycle_id = r.cycle_id AND m.st = r.st)
SELECT CASE WHEN grouping(st) = 1 THEN 'US' ELSE st END AS state, cycle_id,
       CAST(sum(w4) AS BIGINT) AS w4_received, CAST(sum(qw) AS BIGINT) AS qw_received, CAST(sum(ui) AS BIGINT) AS ui_received,
       CAST(sum(type_n) AS BIGINT) AS fn_type_n, CAST(sum(type_p) AS BIGINT) AS fn_type_p, CAST(sum(type_l) AS BIGINT) AS fn_type_l
FROM j WHERE st IS NOT NULL
GROUP BY GROUPING SETS ((st, cycle_id), (cycle_id)) ORDER BY state, cycle_id;

-- name: mser_direct_reporters
-- title: Multistate employers reporting new hires directly to the NDNH in the month, by employer state: employers, new hires, states of the employees
-- params: start, end
-- requires: ndnh(cycle_id, submitter, source, employer_fein, employer_state, state)
WITH n AS (SELECT * FROM ndnh WHERE source = 'H99' AND submitter LIKE 'EMP-%'
           AND cycle_id IN (SELECT cycle_id FROM ({{_period_cycles}})))
SELECT CASE WHEN grouping(employer_state) = 1 THEN 'US' ELSE employer_state END AS state,
       count(DISTINCT employer_fein) AS employers, count(*) AS new_hires,
       count(DISTINCT state) AS employee_states,
       count(*) FILTER (WHERE state IS DISTINCT FROM employer_state) AS hires_living_in_another_state
FROM n WHERE employer_state IS NOT NULL
GROUP BY GROUPING SETS ((employer_state), ()) ORDER BY state;

-- name: mser_hires_by_state
-- title: New hires reported by multistate employers in the month, by the employee's state (where a state would look for them)
-- params: start, end
-- requires: ndnh(cycle_id, submitter, source, state)
SELECT CASE WHEN grouping(state) = 1 THEN 'US' ELSE state END AS state, count(*) AS new_hires,
       count(DISTINCT employer_fein) AS employers
FROM ndnh WHERE source = 'H99' AND submitter LIKE 'EMP-%' AND state IS NOT NULL
  AND cycle_id IN (SELECT cycle_id FROM ({{_period_cycles}}))
GROUP BY GROUPING SETS ((state), ()) ORDER BY state;

-- name: mser_registrations
-- title: MSER registrations by registered state (employers that report all their new hires to one state)
-- params: start, end
-- requires: mser_registrations(employer_fein, registered_state, cycle_id, effective_date, file_id, line_no)
-- Each FEIN's latest registration loaded by the end of the period (as the view employer_services orders them); a
-- withdrawal (registered_state null) ends it. Registered this month: that registration was loaded in the month.
WITH r AS (SELECT * FROM mser_registrations WHERE cycle_id IN (SELECT cycle_id FROM cycles WHERE as_of <= $end)
           QUALIFY row_number() OVER (PARTITION BY employer_fein
                                      ORDER BY effective_date DESC, file_id DESC, line_no DESC) = 1)
SELECT CASE WHEN grouping(registered_state) = 1 THEN 'US' ELSE registered_state END AS state,
       count(DISTINCT employer_fein) AS employers_registered,
       count(DISTINCT employer_fein) FILTER (WHERE cycle_id IN (SELECT cycle_id FROM ({{_period_cycles}})))
           AS registered_this_month
FROM r WHERE registered_state IS NOT NULL
GROUP BY GROUPING SETS ((registered_state), ()) ORDER BY state;

-- name: mser_trend
-- title: New hires reported directly by multistate employers over the last 12 months, by month and employer state
-- params: start, end
-- requires: ndnh(cycle_id, submitter, source, employer_state)
WITH n AS (SELECT n.employer_state AS st, strftime(c.as_of, '%Y-%m') AS month, n.employer_fein FROM ndnh n JOIN cycles c USING (cycle_id)
           WHERE n.source = 'H99' AND n.submitter LIKE 'EMP-%' AND n.employer_state IS NOT NULL
             AND c.as_of > CAST($end AS DATE) - INTERVAL 12 MONTH AND c.as_of <= $end)
SELECT CASE WHEN grouping(st) = 1 THEN 'US' ELSE st END AS state, month, count(*) AS new_hires,
       count(DISTINCT employer_fein) AS employers
FROM n GROUP BY GROUPING SETS ((st, month), (month)) ORDER BY state, month;

-- name: profile_activity
-- title: FPLS activity in the half-year by state: FCR, locate, NDNH, offset and passport, MSFIDM, insurance, Debt Inquiry
-- params: start, end
-- requires: fcr_persons(state, case_id, participant_type, status, added_cycle) fcr_person_input(cycle_id, state, action_type) locate_requests(cycle_id, state, case_id, member_id) matches(cycle_id, state, case_id, member_id, match_type, source) debtors(state, status, added_cycle, arrearage) passport_status(state, status, certified_cycle) enforcement_matches(cycle_id, source, state)
WITH pc AS (SELECT cycle_id FROM ({{_period_cycles}})),
last_c AS (SELECT max(cycle_id) AS c FROM pc),
st AS (SELECT DISTINCT state FROM fcr_persons WHERE added_cycle <= (SELECT c FROM last_c)),
fcr AS (SELECT state, count(DISTINCT case_id) AS fcr_cases, count(*) AS fcr_persons,
               count(*) FILTER (WHERE participant_type IN ('NP', 'PF')) AS fcr_ncps
        FROM fcr_persons WHERE status = 'active' AND added_cycle <= (SELECT c FROM last_c) GROUP BY state),
inp AS (SELECT state, count(*) FILTER (WHERE action_type = 'A') AS persons_added, count(*) AS fcr_transactions
        FROM fcr_person_input WHERE cycle_id IN (SELECT cycle_id FROM pc) GROUP BY state),
loc AS (SELECT r.state, count(*) AS locate_requests,
               count(*) FILTER (WHERE EXISTS (SELECT 1 FROM matches m WHERE m.cycle_id = r.cycle_id AND m.state = r.state
                   AND m.case_id = r.case_id AND m.member_id = r.member_id AND m.match_type = 'L' AND m.source <> 'H01')) AS located
        FROM (SELECT DISTINCT cycle_id, state, case_id, member_id FROM locate_requests WHERE cycle_id IN (SELECT cycle_id FROM pc)) r
        GROUP BY r.state),
nd AS (SELECT state, count(*) FILTER (WHERE source = 'H99') AS fn_w4, count(*) FILTER (WHERE source = 'H98') AS fn_qw,
              count(*) FILTER (WHERE source = 'H97') AS fn_ui
       FROM matches WHERE cycle_id IN (SELECT cycle_id FROM pc) GROUP BY state),
off AS (SELECT state, count(*) AS offset_debtors, CAST(sum(arrearage) AS BIGINT) AS offset_arrears_dollars FROM debtors
        WHERE status = 'active' AND added_cycle <= (SELECT c FROM last_c) GROUP BY state),
pas AS (SELECT state, count(*) AS passport_denials FROM passport_status
        WHERE status = 'certified' AND certified_cycle <= (SELECT c FROM last_c) GROUP BY state),
enf AS (SELECT state, count(*) FILTER (WHERE source = 'msfidm') AS msfidm_matches,
               count(*) FILTER (WHERE source = 'insurance') AS insurance_matches,
               count(*) FILTER (WHERE source = 'debt_inquiry') AS debt_inquiry_matches
        FROM enforcement_matches WHERE cycle_id IN (SELECT cycle_id FROM pc) GROUP BY state),
j AS (SELECT st.state, coalesce(fcr_cases, 0) AS fcr_cases, coalesce(fcr_persons, 0) AS fcr_persons,
             coalesce(fcr_ncps, 0) AS fcr_ncps, coalesce(persons_added, 0) AS persons_added,
             coalesce(locate_requests, 0) AS locate_requests, coalesce(located, 0) AS located,
             coalesce(fn_w4, 0) AS fn_w4, coalesce(fn_qw, 0) AS fn_qw, coalesce(fn_ui, 0) AS fn_ui,
             coalesce(offset_debtors, 0) AS offset_debtors, coalesce(offset_arrears_dollars, 0) AS offset_arrears_dollars,
             coalesce(passport_denials, 0) AS passport_denials, coalesce(msfidm_matches, 0) AS msfidm_matches,
             coalesce(insurance_matches, 0) AS insurance_matches, coalesce(debt_inquiry_matches, 0) AS debt_inquiry_matches
      FROM st LEFT JOIN fcr USING (state) LEFT JOIN inp USING (state) LEFT JOIN loc USING (state) LEFT JOIN nd USING (state)
      LEFT JOIN off USING (state) LEFT JOIN pas USING (state) LEFT JOIN enf USING (state))
SELECT CASE WHEN grouping(state) = 1 THEN 'US' ELSE state END AS state,
       CAST(sum(fcr_cases) AS BIGINT) AS fcr_cases, CAST(sum(fcr_persons) AS BIGINT) AS fcr_persons,
       CAST(sum(fcr_ncps) AS BIGINT) AS fcr_ncps, CAST(sum(persons_added) AS BIGINT) AS persons_added,
       CAST(sum(locate_requests) AS BIGINT) AS locate_requests, CAST(sum(located) AS BIGINT) AS located,
       round(100.0 * sum(located) / greatest(sum(locate_requests), 1), 1) AS locate_hit_rate_pct,
       CAST(sum(fn_w4) AS BIGINT) AS fn_w4, CAST(sum(fn_qw) AS BIGINT) AS fn_qw, CAST(sum(fn_ui) AS BIGINT) AS fn_ui,
       CAST(sum(offset_debtors) AS BIGINT) AS offset_debtors, CAST(sum(offset_arrears_dollars) AS BIGINT) AS offset_arrears_dollars,
       CAST(sum(passport_denials) AS BIGINT) AS passport_denials, CAST(sum(msfidm_matches) AS BIGINT) AS msfidm_matches,
       CAST(sum(insurance_matches) AS BIGINT) AS insurance_matches, CAST(sum(debt_inquiry_matches) AS BIGINT) AS debt_inquiry_matches
FROM j GROUP BY GROUPING SETS ((state), ()) ORDER BY state;

-- name: profile_trend
-- title: FPLS activity per cycle of the half-year: FCR transactions, locate requests, NDNH and enforcement matches, ASAP letters
-- params: start, end
-- requires: fcr_person_input(cycle_id, state) locate_requests(cycle_id, state) matches(cycle_id, state) enforcement_matches(cycle_id, state) asap_letters(cycle_id, state, status)
WITH pc AS (SELECT cycle_id FROM ({{_period_cycles}})),
a AS (SELECT cycle_id, state, 'fcr_transactions' AS measure FROM fcr_person_input
      UNION ALL SELECT cycle_id, state, 'locate_requests' FROM locate_requests
      UNION ALL SELECT cycle_id, state, 'ndnh_matches' FROM matches
      UNION ALL SELECT cycle_id, state, 'enforcement_matches' FROM enforcement_matches
      UNION ALL SELECT cycle_id, state, 'asap_letters' FROM asap_letters WHERE status = 'mailed'),
-- every (state, cycle, measure) of the half-year, zero when nothing happened, so the trend lines do not break
grid AS (SELECT s.state, pc.cycle_id, m.measure FROM (SELECT DISTINCT state FROM a WHERE state IS NOT NULL) s, pc,
         (SELECT DISTINCT measure FROM a) m),
n AS (SELECT g.state, g.cycle_id, g.measure, count(a.cycle_id) AS n FROM grid g
      LEFT JOIN a ON a.state = g.state AND a.cycle_id = g.cycle_id AND a.measure = g.measure GROUP BY ALL)
SELECT CASE WHEN grouping(state) = 1 THEN 'US' ELSE state END AS state, cycle_id, measure, CAST(sum(n) AS BIGINT) AS count
FROM n GROUP BY GROUPING SETS ((state, cycle_id, measure), (cycle_id, measure)) ORDER BY state, cycle_id, measure;

-- name: profile_asap
-- title: Early intervention in the half-year: letters sent, calls taken, cases with a voluntary payment, dollars collected
-- params: start, end
-- requires: asap_letters(state, status, mail_date, cycle_id) contact_outcomes(cycle_id, state, outcome, contact_date) payments(cycle_id, state, case_id, member_id, payment_date, amount, payment_source)
WITH lt AS (SELECT state, count(*) AS letters_sent FROM asap_letters
            WHERE status = 'mailed' AND mail_date BETWEEN $start AND $end GROUP BY ALL),
ca AS (SELECT state, count(*) AS calls_taken FROM contact_outcomes
       WHERE contact_date BETWEEN $start AND $end AND outcome IN ('CALL', 'PROMISE', 'PLAN', 'DISPUTE') GROUP BY ALL),
pa AS (SELECT p.state, p.case_id, p.amount, p.payment_source FROM payments p
       WHERE p.payment_date BETWEEN $start AND $end
         AND EXISTS (SELECT 1 FROM asap_letters l WHERE l.state = p.state AND l.member_id = p.member_id
                     AND l.status = 'mailed' AND l.mail_date <= p.payment_date AND p.payment_date < l.mail_date + 365)),
pv AS (SELECT state, count(DISTINCT case_id) FILTER (WHERE payment_source = 'VOL') AS cases_voluntary, sum(amount) AS cents
       FROM pa GROUP BY ALL),
k AS (SELECT state FROM lt UNION SELECT state FROM ca UNION SELECT state FROM pv)
SELECT CASE WHEN grouping(k.state) = 1 THEN 'US' ELSE k.state END AS state,
       CAST(coalesce(sum(letters_sent), 0) AS BIGINT) AS letters_sent, CAST(coalesce(sum(calls_taken), 0) AS BIGINT) AS calls_taken,
       CAST(coalesce(sum(cases_voluntary), 0) AS BIGINT) AS cases_with_voluntary_payment,
       CAST(coalesce(round(sum(cents) / 100.0), 0) AS BIGINT) AS dollars_collected
FROM k LEFT JOIN lt USING (state) LEFT JOIN ca USING (state) LEFT JOIN pv USING (state)
GROUP BY GROUPING SETS ((k.state), ()) ORDER BY state;

-- name: profile_eiwo
-- title: e-IWO: income withholding orders received from the state in the half-year, sent to employers or refused, and their acknowledgments
-- params: start, end
-- requires: eiwo_orders(cycle_id, file_id, line_no, submitter, state, status) eiwo_acks(cycle_id, file_id, line_no, order_file_id, order_line_no, status) eiwo_ack_input(file_id, line_no, disposition_status)
-- The e-IWO exchange (issue 18; pipeline/enforcement/eiwo.py, eiwo_acks.py): an order is sent or refused back to the
-- state; it is acknowledged when an employer's acknowledgment was routed to the state (by the end of the period).
-- Counted under the state that sent the order (its folder), even when the order names another (STATE_MISMATCH).
WITH o AS (SELECT * REPLACE (CASE WHEN length(submitter) = 2 THEN submitter ELSE state END AS state) FROM eiwo_orders
           WHERE cycle_id IN (SELECT cycle_id FROM ({{_period_cycles}}))),
a AS (SELECT k.order_file_id, k.order_line_no, bool_or(i.disposition_status = 'R') AS rejected
      FROM eiwo_acks k JOIN eiwo_ack_input i ON i.file_id = k.file_id AND i.line_no = k.line_no
      WHERE k.status = 'routed' AND k.cycle_id IN (SELECT cycle_id FROM cycles WHERE as_of <= $end) GROUP BY ALL)
SELECT CASE WHEN grouping(o.state) = 1 THEN 'US' ELSE o.state END AS state, count(*) AS orders,
       count(*) FILTER (WHERE o.status = 'sent') AS sent, count(*) FILTER (WHERE o.status = 'refused') AS refused,
       count(a.order_file_id) AS acknowledged, count(*) FILTER (WHERE a.rejected) AS rejected_by_employer
FROM o LEFT JOIN a ON a.order_file_id = o.file_id AND a.order_line_no = o.line_no
GROUP BY GROUPING SETS ((o.state), ()) ORDER BY state;
