-- The early-intervention program (Oklahoma ASAP) as the enforcement stage runs it (pipeline/enforcement/asap.py):
-- the letters of a cycle, the program's counts, the 14-day follow-up list, returned mail and the quarterly
-- table the program publishes. Same block format as queries.sql.
--
-- Rules (constants in the SQL):
--   letter sent: an `asap_letters` row with status 'mailed' and mail date on or before the cycle date (a cycle
--     spreads its letters over the weeks until the next one; a letter dated later is scheduled, not sent).
--   call taken: a contact outcome CALL, PROMISE, PLAN or DISPUTE (NOCONTACT and RETURNED are not calls).
--   collected by the program: a payment on a case of a parent the state mailed a letter to in the 365 days
--     before the payment (any source); "cases with a voluntary payment": cases with such a payment made by the
--     parent (source VOL).
--   follow-up (the program's 14-day tickler): a parent whose latest letter or call is 14 days old or more
--     and who has made no payment and no contact since; listed in the cycle in which the 14 days ran out
--     (after the previous cycle's date, up to this cycle's date).

-- name: asap_letters
-- title: ASAP letters of this cycle: mailed (with the address, its source and date) or "no address, locate requested"
-- requires: asap_letters(letter_id, cycle_id, state, member_id, status, mail_date)
SELECT state, letter_id, member_id, ncp_ssn, first_name, last_name, case_ids,
       round(arrears / 100.0, 2) AS arrears, days_delinquent, oldest_unpaid_due, last_payment_date, passport_risk,
       CASE WHEN status = 'mailed' THEN 'mailed' ELSE 'no address, locate requested' END AS mailing,
       reason, address_line_1, address_line_2, city, addr_state, zip, address_source, address_date, mail_date,
       respond_by, toll_free, office_name, office_address, office_city_line, agency, office_hours
FROM asap_letters WHERE cycle_id = $cycle
ORDER BY state, status, mail_date, priority, member_id;

-- name: asap_program
-- title: ASAP this cycle: weekly quota, parents due a letter, on hold, mailed, no address (locate requested), backlog
-- requires: asap_cycles(cycle_id, state, weekly_letters, weeks, delinquent, on_hold, eligible, mailed, no_address, backlog, returned_mail, locates_queued)
SELECT CASE WHEN grouping(state) = 1 THEN 'US' ELSE state END AS state,
       CAST(sum(weekly_letters) AS BIGINT) AS weekly_quota, max(weeks) AS weeks,
       CAST(sum(delinquent) AS BIGINT) AS delinquent_ncps, CAST(sum(on_hold) AS BIGINT) AS on_hold,
       CAST(sum(eligible) AS BIGINT) AS eligible, CAST(sum(mailed) AS BIGINT) AS letters_mailed,
       CAST(sum(no_address) AS BIGINT) AS no_address_locate_requested, CAST(sum(backlog) AS BIGINT) AS backlog,
       CAST(sum(returned_mail) AS BIGINT) AS returned_mail, CAST(sum(locates_queued) AS BIGINT) AS locates_queued
FROM asap_cycles WHERE cycle_id = $cycle
GROUP BY GROUPING SETS ((state), ()) ORDER BY state;

-- name: asap_contacts
-- title: Contact outcomes logged by the ASAP team, received this cycle (by outcome)
-- requires: contact_outcomes(cycle_id, state, outcome, amount)
SELECT CASE WHEN grouping(state) = 1 THEN 'US' ELSE state END AS state, outcome,
       CASE outcome WHEN 'CALL' THEN 'call logged' WHEN 'PROMISE' THEN 'promise to pay' WHEN 'PLAN' THEN 'payment plan'
                    WHEN 'DISPUTE' THEN 'dispute' WHEN 'NOCONTACT' THEN 'no contact'
                    WHEN 'RETURNED' THEN 'returned mail (locate requested)' ELSE outcome END AS outcome_label,
       count(*) AS contacts, CAST(coalesce(round(sum(amount) / 100.0), 0) AS BIGINT) AS amount_dollars
FROM contact_outcomes WHERE cycle_id = $cycle
GROUP BY GROUPING SETS ((state, outcome), (outcome)) ORDER BY state, outcome;

-- name: _asap_attributed
-- title: Payments on the cases of parents mailed an ASAP letter in the 365 days before the payment
WITH cyc AS (SELECT as_of FROM cycles WHERE cycle_id = $cycle)
SELECT p.* FROM payments p, cyc
WHERE p.cycle_id <= $cycle AND p.payment_date <= cyc.as_of
  AND EXISTS (SELECT 1 FROM asap_letters l WHERE l.state = p.state AND l.member_id = p.member_id
              AND l.status = 'mailed' AND l.cycle_id <= $cycle AND l.mail_date <= p.payment_date
              AND p.payment_date < l.mail_date + 365)

-- name: asap_quarterly
-- title: ASAP results by quarter (the program's published table): letters sent, calls taken, cases with a voluntary payment, dollars collected
-- requires: asap_letters(state, status, mail_date, cycle_id) contact_outcomes(cycle_id, state, outcome, contact_date) payments(cycle_id, state, case_id, member_id, payment_date, amount, payment_source)
WITH cyc AS (SELECT as_of FROM cycles WHERE cycle_id = $cycle),
lt AS (SELECT state, strftime(mail_date, '%Y') || '-Q' || quarter(mail_date) AS quarter, count(*) AS letters_sent
       FROM asap_letters, cyc WHERE status = 'mailed' AND cycle_id <= $cycle AND mail_date <= cyc.as_of GROUP BY ALL),
ca AS (SELECT state, strftime(contact_date, '%Y') || '-Q' || quarter(contact_date) AS quarter, count(*) AS calls_taken
       FROM contact_outcomes, cyc WHERE cycle_id <= $cycle AND contact_date <= cyc.as_of
         AND outcome IN ('CALL', 'PROMISE', 'PLAN', 'DISPUTE') GROUP BY ALL),
pa AS (SELECT state, strftime(payment_date, '%Y') || '-Q' || quarter(payment_date) AS quarter, case_id, amount,
              payment_source FROM ({{_asap_attributed}})),
first_q AS (SELECT state, min(quarter) AS q0 FROM lt GROUP BY state),
keys AS (SELECT state, quarter FROM lt UNION SELECT state, quarter FROM ca UNION SELECT state, quarter FROM pa),
j AS (
    SELECT k.state, k.quarter, coalesce(lt.letters_sent, 0) AS letters_sent, coalesce(ca.calls_taken, 0) AS calls_taken,
           (SELECT count(DISTINCT case_id) FROM pa WHERE pa.state = k.state AND pa.quarter = k.quarter
                AND pa.payment_source = 'VOL') AS cases_voluntary,
           (SELECT coalesce(sum(amount), 0) FROM pa WHERE pa.state = k.state AND pa.quarter = k.quarter) AS cents
    FROM keys k JOIN first_q f ON f.state = k.state AND k.quarter >= f.q0
    LEFT JOIN lt ON lt.state = k.state AND lt.quarter = k.quarter
    LEFT JOIN ca ON ca.state = k.state AND ca.quarter = k.quarter
)
SELECT CASE WHEN grouping(state) = 1 THEN 'US' ELSE state END AS state, quarter,
       CAST(sum(letters_sent) AS BIGINT) AS letters_sent, CAST(sum(calls_taken) AS BIGINT) AS calls_taken,
       CAST(sum(cases_voluntary) AS BIGINT) AS cases_with_voluntary_payment,
       CAST(round(sum(cents) / 100.0) AS BIGINT) AS dollars_collected
FROM j GROUP BY GROUPING SETS ((state, quarter), (quarter)) ORDER BY state, quarter;

-- name: asap_followup
-- title: 14-day follow-up: parents whose letter or call is 14 days old with no payment and no contact since
-- requires: asap_letters(state, member_id, status, mail_date, cycle_id) contact_outcomes(cycle_id, state, member_id, outcome, contact_date, amount) payments(cycle_id, state, member_id, payment_date) case_financial(cycle_id, state, case_id, member_id, arrears, monthly_obligation, as_of_date, last_payment_date)
WITH cyc AS (SELECT as_of, (SELECT max(as_of) FROM cycles WHERE cycle_id < $cycle) AS prev_as_of
             FROM cycles WHERE cycle_id = $cycle),
ev AS (
    SELECT state, member_id, mail_date AS event_date, 'letter mailed' AS event, NULL::BIGINT AS amount, letter_id AS ref
    FROM asap_letters WHERE status = 'mailed' AND cycle_id <= $cycle
    UNION ALL
    SELECT state, member_id, contact_date, CASE outcome WHEN 'CALL' THEN 'call logged' WHEN 'PROMISE' THEN 'promise to pay'
           WHEN 'PLAN' THEN 'payment plan' ELSE 'dispute' END, amount, letter_id
    FROM contact_outcomes WHERE cycle_id <= $cycle AND outcome IN ('CALL', 'PROMISE', 'PLAN', 'DISPUTE')
),
latest AS (
    SELECT ev.* FROM ev, cyc WHERE ev.event_date <= cyc.as_of
    QUALIFY row_number() OVER (PARTITION BY state, member_id ORDER BY event_date DESC, event) = 1
),
due AS (
    SELECT l.*, CAST(l.event_date + 14 AS DATE) AS follow_up_date FROM latest l, cyc
    WHERE l.event_date + 14 <= cyc.as_of
      AND l.event_date + 14 > coalesce(cyc.prev_as_of, cyc.as_of - 14)
      AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.state = l.state AND p.member_id = l.member_id
                      AND p.cycle_id <= $cycle AND p.payment_date > l.event_date AND p.payment_date <= cyc.as_of)
      AND NOT EXISTS (SELECT 1 FROM contact_outcomes o WHERE o.state = l.state AND o.member_id = l.member_id
                      AND o.cycle_id <= $cycle AND o.contact_date > l.event_date AND o.contact_date <= cyc.as_of)
),
d AS ({{_ncp_delinquency}})
SELECT due.state, due.member_id, d.ncp_ssn, d.first_name, d.last_name, d.case_ids, due.event, due.event_date,
       due.follow_up_date, round(due.amount / 100.0, 2) AS amount_promised, round(d.arrears_cents / 100.0, 2) AS arrears,
       d.days_delinquent, d.last_payment_date
FROM due LEFT JOIN d USING (state, member_id)
ORDER BY due.state, due.follow_up_date, due.member_id;

-- name: asap_returned_mail
-- title: Returned letters received this cycle and the locate requests queued for the next cycle
-- requires: asap_locate_queue(state, case_id, member_id, reason, queued_cycle, requested_cycle)
SELECT q.state, q.member_id, q.case_id, q.reason, q.queued_cycle, q.requested_cycle,
       CASE WHEN q.requested_cycle IS NULL THEN 'locate requested for the next cycle'
            ELSE 'locate requested in cycle ' || q.requested_cycle END AS locate
FROM asap_locate_queue q WHERE q.queued_cycle = $cycle OR q.requested_cycle = $cycle
ORDER BY q.state, q.reason, q.member_id, q.case_id;
