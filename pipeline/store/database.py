"""The store: one DuckDB database `<home>/fpls.duckdb`, schema created and migrated by code.

Every table is keyed by the cycle and file that produced its rows, so a cycle can be resumed after a
crash: a file's rows and its ledger row commit together (one transaction per file); each later stage
commits its output together with a `cycle_stages` marker. No column holds wall-clock time, so two runs
with the same inbound and `--as-of` end in the same store.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from pipeline.store.encryption import configured_key, open_encrypted, open_plain

DB_NAME = "fpls.duckdb"
NAME_COLS = "first_name VARCHAR, middle_name VARCHAR, last_name VARCHAR"
ERR_COLS = ", ".join(f"error_code_{i} VARCHAR" for i in range(1, 6))

# Each entry migrates the schema from version i to i+1. Never edit a released entry: append.
MIGRATIONS: list[list[str]] = [
    [
        "CREATE TABLE cycles (cycle_id VARCHAR PRIMARY KEY, as_of DATE, seq INTEGER, status VARCHAR)",
        "CREATE TABLE cycle_stages (cycle_id VARCHAR, stage VARCHAR, PRIMARY KEY (cycle_id, stage))",
        "CREATE TABLE partners (partner_id VARCHAR PRIMARY KEY, kind VARCHAR, file_types VARCHAR[])",
        """CREATE TABLE file_ledger (file_id INTEGER PRIMARY KEY, cycle_id VARCHAR, submitter VARCHAR,
        file_name VARCHAR, sha256 VARCHAR, bytes BIGINT, layout VARCHAR, status VARCHAR, records BIGINT,
        accepted BIGINT, rejected BIGINT, reason_codes VARCHAR[], duplicate_of INTEGER, header_json VARCHAR,
        processed BOOLEAN DEFAULT FALSE)""",
        """CREATE TABLE rejects (file_id INTEGER, line BIGINT, record_type VARCHAR, field VARCHAR, code VARCHAR,
        message VARCHAR, value VARCHAR, severity VARCHAR)""",
        f"""CREATE TABLE ssa_master (file_id INTEGER, line_no BIGINT, ssn VARCHAR, {NAME_COLS}, dob DATE,
        sex VARCHAR, date_of_death DATE, other_ssn_1 VARCHAR, other_ssn_2 VARCHAR, other_ssn_3 VARCHAR)""",
        """CREATE TABLE fcr_case_input (cycle_id VARCHAR, file_id INTEGER, line_no BIGINT, state VARCHAR,
        batch_number VARCHAR, action_type VARCHAR, case_id VARCHAR, case_type VARCHAR, order_indicator VARCHAR,
        fips_county VARCHAR, user_field VARCHAR, previous_case_id VARCHAR)""",
        f"""CREATE TABLE fcr_person_input (cycle_id VARCHAR, file_id INTEGER, line_no BIGINT, state VARCHAR,
        action_type VARCHAR, case_id VARCHAR, participant_type VARCHAR, family_violence VARCHAR,
        member_id VARCHAR, sex VARCHAR, dob DATE, ssn VARCHAR, previous_ssn VARCHAR, {NAME_COLS},
        additional_ssn_1 VARCHAR, additional_ssn_2 VARCHAR, additional_first_name_1 VARCHAR,
        additional_last_name_1 VARCHAR, additional_first_name_2 VARCHAR, additional_last_name_2 VARCHAR,
        new_member_id VARCHAR, locate_request_type VARCHAR)""",
        """CREATE TABLE fcr_cases (state VARCHAR, case_id VARCHAR, case_type VARCHAR, order_indicator VARCHAR,
        fips_county VARCHAR, status VARCHAR, added_cycle VARCHAR, changed_cycle VARCHAR,
        PRIMARY KEY (state, case_id))""",
        f"""CREATE TABLE fcr_persons (state VARCHAR, case_id VARCHAR, member_id VARCHAR, participant_type VARCHAR,
        family_violence VARCHAR, sex VARCHAR, dob DATE, ssn VARCHAR, {NAME_COLS}, additional_ssn_1 VARCHAR,
        additional_ssn_2 VARCHAR, additional_first_name_1 VARCHAR, additional_last_name_1 VARCHAR,
        additional_first_name_2 VARCHAR, additional_last_name_2 VARCHAR, status VARCHAR,
        validity_code VARCHAR, verified_ssn VARCHAR, evidence VARCHAR, added_cycle VARCHAR,
        changed_cycle VARCHAR, verified_cycle VARCHAR, PRIMARY KEY (state, case_id, member_id))""",
        """CREATE TABLE ssn_validity_history (cycle_id VARCHAR, state VARCHAR, case_id VARCHAR, member_id VARCHAR,
        submitted_ssn VARCHAR, validity_code VARCHAR, verified_ssn VARCHAR, evidence VARCHAR)""",
        """CREATE TABLE misidentified (file_id INTEGER, state VARCHAR, member_id VARCHAR, ssn VARCHAR)""",
        """CREATE TABLE locate_requests (cycle_id VARCHAR, file_id INTEGER, line_no BIGINT, state VARCHAR,
        case_id VARCHAR, member_id VARCHAR, participant_type VARCHAR, verified_ssn VARCHAR, validity_code VARCHAR)""",
        f"""CREATE TABLE ndnh (ndnh_id BIGINT PRIMARY KEY, cycle_id VARCHAR, received DATE, file_id INTEGER,
        line_no BIGINT, submitter VARCHAR, source VARCHAR, ssn VARCHAR, {NAME_COLS}, address_line_1 VARCHAR,
        address_line_2 VARCHAR, city VARCHAR, state VARCHAR, zip VARCHAR, dob DATE, hire_date DATE,
        reporting_period VARCHAR, wage_amount BIGINT, benefit_amount BIGINT, employer_fein VARCHAR,
        employer_name VARCHAR, employer_address_line_1 VARCHAR, employer_address_line_2 VARCHAR,
        employer_city VARCHAR, employer_state VARCHAR, employer_zip VARCHAR, verification VARCHAR,
        verified_ssn VARCHAR)""",
        """CREATE TABLE ndnh_employers (file_id INTEGER, line_no BIGINT, employer_fein VARCHAR, employer_name VARCHAR,
        employer_address_line_1 VARCHAR, employer_address_line_2 VARCHAR, employer_city VARCHAR,
        employer_state VARCHAR, employer_zip VARCHAR, reporting_period VARCHAR)""",
        """CREATE TABLE matches (cycle_id VARCHAR, state VARCHAR, case_id VARCHAR, member_id VARCHAR,
        match_type VARCHAR, source VARCHAR, ndnh_id BIGINT, fact_key VARCHAR, rule VARCHAR,
        name_indicator VARCHAR, data_withheld VARCHAR, evidence VARCHAR)""",
        f"""CREATE TABLE ack_fd (cycle_id VARCHAR, state VARCHAR, file_id INTEGER, source_line BIGINT,
        action_type VARCHAR, case_id VARCHAR, case_type VARCHAR, order_indicator VARCHAR, fips_county VARCHAR,
        user_field VARCHAR, previous_case_id VARCHAR, batch_number VARCHAR, ack_code VARCHAR, {ERR_COLS})""",
        f"""CREATE TABLE ack_fs (cycle_id VARCHAR, state VARCHAR, file_id INTEGER, source_line BIGINT,
        action_type VARCHAR, case_id VARCHAR, participant_type VARCHAR, family_violence VARCHAR,
        member_id VARCHAR, sex VARCHAR, dob DATE, submitted_ssn VARCHAR, {NAME_COLS}, ack_code VARCHAR,
        {ERR_COLS}, ssn_validity_code VARCHAR, provided_corrected_ssn VARCHAR, multiple_ssn_1 VARCHAR,
        multiple_ssn_2 VARCHAR, multiple_ssn_3 VARCHAR, ssa_dob_indicator VARCHAR, date_of_death DATE,
        fcr_primary_ssn VARCHAR)""",
        """CREATE TABLE responses_sent (cycle_id VARCHAR, recipient VARCHAR, record_type VARCHAR, member_id VARCHAR,
        fact_key VARCHAR, ssn VARCHAR)""",
        """CREATE TABLE ft_out (cycle_id VARCHAR, state VARCHAR, case_id VARCHAR, member_id VARCHAR,
        matched_state VARCHAR, matched_case_id VARCHAR, matched_case_type VARCHAR,
        matched_participant_type VARCHAR, matched_member_id VARCHAR, ssn VARCHAR, first_name VARCHAR,
        middle_name VARCHAR, last_name VARCHAR, sex VARCHAR, dob DATE, date_of_death DATE, data_withheld VARCHAR,
        fact_key VARCHAR)""",
        """CREATE VIEW ssa_current AS SELECT * FROM ssa_master
        QUALIFY row_number() OVER (PARTITION BY ssn ORDER BY file_id DESC, line_no DESC) = 1""",
    ],
    [
        # Enforcement exchanges (pipeline/enforcement/run.py and its stage modules; owner: issue 7).
        """CREATE TABLE offset_input (cycle_id VARCHAR, file_id INTEGER, line_no BIGINT, submitter VARCHAR,
        submitting_state VARCHAR, local_code VARCHAR, ssn VARCHAR, case_id VARCHAR, last_name VARCHAR,
        first_name VARCHAR, arrearage BIGINT, transaction_type VARCHAR, case_type VARCHAR, transfer_state VARCHAR,
        transfer_local_code VARCHAR, process_year VARCHAR, address_line_1 VARCHAR, address_line_2 VARCHAR,
        city VARCHAR, state VARCHAR, zip VARCHAR, exclusions VARCHAR)""",
        """CREATE TABLE offset_results (cycle_id VARCHAR, file_id INTEGER, line_no BIGINT, submitter VARCHAR,
        submitting_state VARCHAR, ssn VARCHAR, case_type VARCHAR, transaction_type VARCHAR, status VARCHAR,
        error_codes VARCHAR[], master_last4 VARCHAR, evidence VARCHAR)""",
        """CREATE TABLE debtors (state VARCHAR, ssn VARCHAR, case_type VARCHAR, case_id VARCHAR, local_code VARCHAR,
        last_name VARCHAR, first_name VARCHAR, arrearage BIGINT, exclusions VARCHAR, address_line_1 VARCHAR,
        address_line_2 VARCHAR, city VARCHAR, addr_state VARCHAR, zip VARCHAR, transfer_state VARCHAR,
        transfer_local_code VARCHAR, process_year VARCHAR, status VARCHAR, added_cycle VARCHAR,
        changed_cycle VARCHAR, deleted_cycle VARCHAR, source_file_id INTEGER, source_line BIGINT,
        PRIMARY KEY (state, ssn, case_type))""",
        """CREATE TABLE passport_status (state VARCHAR, ssn VARCHAR, status VARCHAR, arrears BIGINT,
        certified_cycle VARCHAR, released_cycle VARCHAR, reason VARCHAR, PRIMARY KEY (state, ssn))""",
        """CREATE TABLE passport_actions (seq BIGINT, cycle_id VARCHAR, state VARCHAR, ssn VARCHAR, action VARCHAR,
        arrears BIGINT, reason VARCHAR, source VARCHAR, operator VARCHAR, recorded_at TIMESTAMP)""",
        """CREATE TABLE msfidm_accounts (cycle_id VARCHAR, file_id INTEGER, line_no BIGINT, submitter VARCHAR,
        account_type VARCHAR, trust_fund_indicator VARCHAR, balance_indicator VARCHAR, payee_indicator VARCHAR,
        account_status VARCHAR, match_flag VARCHAR, matched_ssn VARCHAR, account_number VARCHAR,
        secondary_ssn VARCHAR, secondary_name VARCHAR, account_holder_name VARCHAR, account_holder_street VARCHAR,
        account_holder_city VARCHAR, account_holder_state VARCHAR, account_holder_zip VARCHAR,
        account_holder_zip4 VARCHAR, state_passback VARCHAR, additional_passback VARCHAR, account_balance BIGINT)""",
        """CREATE TABLE msfidm_inquiry (cycle_id VARCHAR, state VARCHAR, ssn VARCHAR, last_name VARCHAR,
        first_name VARCHAR)""",
        """CREATE TABLE msfidm_recipients (cycle_id VARCHAR, recipient VARCHAR)""",
        """CREATE TABLE insurance_claims (cycle_id VARCHAR, file_id INTEGER, line_no BIGINT, submitter VARCHAR,
        layout VARCHAR, processing_date DATE, claimant_ssn VARCHAR, obligor_ssn VARCHAR, obligor_last_name VARCHAR,
        obligor_first_name VARCHAR, insurer_id VARCHAR, insurer_name VARCHAR, insurer_address_line_1 VARCHAR,
        insurer_address_line_2 VARCHAR, claimant_last_name VARCHAR, claimant_first_name VARCHAR,
        claimant_middle_name VARCHAR, claimant_dob DATE, claimant_address_line_1 VARCHAR,
        claimant_address_line_2 VARCHAR, claimant_city VARCHAR, claimant_state VARCHAR, claimant_zip VARCHAR,
        claimant_zip4 VARCHAR, claim_number VARCHAR, loss_date DATE, claim_type VARCHAR)""",
        f"""CREATE TABLE debt_inquiries (cycle_id VARCHAR, file_id INTEGER, line_no BIGINT, submitter VARCHAR,
        payer_type VARCHAR, payer_id VARCHAR, payer_name VARCHAR, contact_name VARCHAR, contact_phone VARCHAR,
        ssn VARCHAR, {NAME_COLS}, dob DATE, payment_type VARCHAR, amount BIGINT, payout_date DATE)""",
        f"""CREATE TABLE terminations (cycle_id VARCHAR, file_id INTEGER, line_no BIGINT, submitter VARCHAR,
        employer_fein VARCHAR, employer_name VARCHAR, contact_name VARCHAR, contact_phone VARCHAR, ssn VARCHAR,
        {NAME_COLS}, dob DATE, termination_reason VARCHAR, termination_date DATE, notice_date DATE)""",
        """CREATE TABLE enforcement_matches (cycle_id VARCHAR, source VARCHAR, state VARCHAR, ssn VARCHAR,
        file_id INTEGER, line_no BIGINT, case_id VARCHAR, member_id VARCHAR, ndnh_id BIGINT, rule VARCHAR,
        name_check VARCHAR, probability DOUBLE, data_withheld VARCHAR, evidence VARCHAR)""",
        """CREATE TABLE enforcement_review (cycle_id VARCHAR, source VARCHAR, file_id INTEGER, line_no BIGINT,
        candidate_ssn VARCHAR, rule VARCHAR, probability DOUBLE, evidence VARCHAR)""",
        """CREATE TABLE misidentified_input (cycle_id VARCHAR, file_id INTEGER, line_no BIGINT, state VARCHAR,
        member_id VARCHAR, ssn VARCHAR, action VARCHAR, reason VARCHAR)""",
        """CREATE TABLE misidentified_audit (seq BIGINT, cycle_id VARCHAR, action VARCHAR, state VARCHAR,
        member_id VARCHAR, ssn VARCHAR, source VARCHAR, file_id INTEGER, line_no BIGINT, operator VARCHAR,
        reason VARCHAR, recorded_at TIMESTAMP)""",
        """CREATE VIEW eemployer AS SELECT employer_fein,
            max_by(employer_name, strftime(received, '%Y%m%d') || lpad(ndnh_id::VARCHAR, 20, '0')) AS employer_name,
            list_sort(list(DISTINCT employer_name)) AS employer_names,
            max_by(employer_address_line_1, strftime(received, '%Y%m%d') || lpad(ndnh_id::VARCHAR, 20, '0')) AS address_line_1,
            max_by(employer_city, strftime(received, '%Y%m%d') || lpad(ndnh_id::VARCHAR, 20, '0')) AS city,
            max_by(employer_state, strftime(received, '%Y%m%d') || lpad(ndnh_id::VARCHAR, 20, '0')) AS state,
            max_by(employer_zip, strftime(received, '%Y%m%d') || lpad(ndnh_id::VARCHAR, 20, '0')) AS zip,
            max(received) AS last_reported, count(*) FILTER (WHERE source = 'H99') AS hires,
            count(*) FILTER (WHERE source = 'H98') AS wage_records, min(received) AS first_reported
        FROM ndnh WHERE employer_fein IS NOT NULL GROUP BY employer_fein""",
    ],
    [
        # Safeguards (issue 9): the append-only disclosure log (pipeline/safeguards/disclosure.py) and purge audit.
        """CREATE TABLE disclosures (cycle_id VARCHAR, recipient VARCHAR, file_name VARCHAR, layout VARCHAR,
        record_type VARCHAR, line_no BIGINT, person_key VARCHAR, member_id VARCHAR, categories VARCHAR[],
        legal_basis VARCHAR)""",
        """CREATE TABLE purge_log (purged_on DATE, kind VARCHAR, target VARCHAR, cutoff DATE, items BIGINT,
        bytes BIGINT)""",
    ],
    [
        # Portal exchanges (issue 10; pipeline/portal/run.py and its modules): staged input rows per file, then results.
        """CREATE TABLE portal_input (cycle_id VARCHAR, file_id INTEGER, line_no BIGINT, submitter VARCHAR,
        layout VARCHAR, record_id VARCHAR, row_json VARCHAR)""",
        """CREATE TABLE portal_attachments (cycle_id VARCHAR, file_id INTEGER, submitter VARCHAR, file_name VARCHAR,
        sha256 VARCHAR, bytes BIGINT)""",
        """CREATE TABLE irg_profiles (jurisdiction VARCHAR, version INTEGER, cycle_id VARCHAR, file_id INTEGER,
        line_no BIGINT, profile_section VARCHAR, item_kind VARCHAR, name VARCHAR, address_line_1 VARCHAR,
        address_line_2 VARCHAR, city VARCHAR, addr_state VARCHAR, zip VARCHAR, phone VARCHAR, email VARCHAR,
        text VARCHAR)""",
        """CREATE TABLE ede_exchanges (exchange_id VARCHAR, cycle_id VARCHAR, file_id INTEGER, line_no BIGINT,
        sender VARCHAR, recipient VARCHAR, case_id VARCHAR, document_type VARCHAR, exchange_type VARCHAR,
        request_ref VARCHAR, document_file VARCHAR, delivered_name VARCHAR, sha256 VARCHAR, bytes BIGINT,
        status VARCHAR, code VARCHAR, message VARCHAR, note VARCHAR)""",
        """CREATE TABLE dra_uploads (cycle_id VARCHAR, file_id INTEGER, state VARCHAR, audit_year VARCHAR,
        version INTEGER, file_name VARCHAR, sha256 VARCHAR, bytes BIGINT, records BIGINT, status VARCHAR,
        code VARCHAR, message VARCHAR, stored_path VARCHAR)""",
        """CREATE TABLE submissions (cycle_id VARCHAR, file_id INTEGER, state VARCHAR, kind VARCHAR, period VARCHAR,
        version INTEGER, status VARCHAR, items INTEGER)""",
        """CREATE TABLE submission_items (cycle_id VARCHAR, file_id INTEGER, line_no BIGINT, state VARCHAR,
        kind VARCHAR, period VARCHAR, version INTEGER, item VARCHAR, data_json VARCHAR)""",
        """CREATE TABLE submission_issues (cycle_id VARCHAR, file_id INTEGER, line_no BIGINT, state VARCHAR,
        kind VARCHAR, field VARCHAR, code VARCHAR, message VARCHAR)""",
        """CREATE TABLE submission_events (seq BIGINT, cycle_id VARCHAR, event_date DATE, state VARCHAR, kind VARCHAR,
        reference VARCHAR, from_status VARCHAR, to_status VARCHAR, source VARCHAR, operator VARCHAR,
        reason VARCHAR, file_id INTEGER)""",
        """CREATE TABLE quick_queries (seq BIGINT, queried_on DATE, querying_state VARCHAR, case_state VARCHAR,
        case_id VARCHAR, found BOOLEAN, participants INTEGER, operator VARCHAR)""",
    ],
    [
        # The states' case financial summaries (layout case_financial_csv), loaded by the cycle's load stage. Stores
        # made before this version may hold the table already (the report builder used to load it): IF NOT EXISTS.
        """CREATE TABLE IF NOT EXISTS case_financial (cycle_id VARCHAR, file_id INTEGER, line_no BIGINT, state VARCHAR,
    case_id VARCHAR, member_id VARCHAR, ncp_ssn VARCHAR, ncp_last_name VARCHAR, ncp_first_name VARCHAR,
    case_type VARCHAR, monthly_obligation BIGINT, arrears BIGINT, last_payment_date DATE,
    last_payment_amount BIGINT, as_of_date DATE)""",
    ],
    [
        # e-IWO and employer services (issue 18; pipeline/enforcement/eiwo*.py, employers.py). Inputs keep their key
        # columns typed and the whole record as layout text in row_json (the outbound order repeats it verbatim).
        """CREATE TABLE eiwo_order_input (cycle_id VARCHAR, file_id INTEGER, line_no BIGINT, submitter VARCHAR,
        layout VARCHAR, issuing_state VARCHAR, document_action_code VARCHAR, document_date DATE, case_id VARCHAR,
        employer_fein VARCHAR, employee_ssn VARCHAR, employee_last_name VARCHAR, employee_first_name VARCHAR,
        document_tracking_id VARCHAR, total_amount BIGINT, row_json VARCHAR)""",
        """CREATE TABLE eiwo_ack_input (cycle_id VARCHAR, file_id INTEGER, line_no BIGINT, submitter VARCHAR,
        layout VARCHAR, document_action_code VARCHAR, case_id VARCHAR, employer_fein VARCHAR, employee_ssn VARCHAR,
        employee_last_name VARCHAR, employee_first_name VARCHAR, document_tracking_id VARCHAR,
        issuing_state_fips VARCHAR, disposition_status VARCHAR, disposition_reason VARCHAR, corrected_fein VARCHAR,
        other_state_fips VARCHAR, ack_date DATE, row_json VARCHAR)""",
        """CREATE TABLE eiwo_batch_input (cycle_id VARCHAR, file_id INTEGER, line_no BIGINT, layout VARCHAR,
        record_id VARCHAR, control_number VARCHAR, state_fips VARCHAR, ein VARCHAR, record_count BIGINT)""",
        """CREATE TABLE eiwo_orders (cycle_id VARCHAR, file_id INTEGER, line_no BIGINT, submitter VARCHAR,
        state VARCHAR, document_tracking_id VARCHAR, document_action_code VARCHAR, document_date DATE,
        case_id VARCHAR, employee_ssn VARCHAR, employer_fein VARCHAR, recipient_fein VARCHAR, status VARCHAR,
        reason_code VARCHAR, delivery VARCHAR, address_source VARCHAR, data_withheld VARCHAR, is_open BOOLEAN,
        closed_cycle VARCHAR, closed_reason VARCHAR)""",
        """CREATE TABLE eiwo_acks (cycle_id VARCHAR, file_id INTEGER, line_no BIGINT, submitter VARCHAR,
        state VARCHAR, order_file_id INTEGER, order_line_no BIGINT, status VARCHAR, reason_code VARCHAR,
        was_open BOOLEAN, days_to_ack INTEGER, data_withheld VARCHAR)""",
        """CREATE TABLE eiwo_notices (cycle_id VARCHAR, kind VARCHAR, state VARCHAR, ssn VARCHAR,
        order_file_id INTEGER, order_line_no BIGINT, ndnh_id BIGINT, source_file_id INTEGER, source_line BIGINT,
        data_withheld VARCHAR, evidence VARCHAR)""",
        """CREATE TABLE mser_input (cycle_id VARCHAR, file_id INTEGER, line_no BIGINT, submitter VARCHAR,
        action VARCHAR, employer_fein VARCHAR, employer_name VARCHAR, address_line_1 VARCHAR, address_line_2 VARCHAR,
        city VARCHAR, state VARCHAR, zip VARCHAR, reporting_state VARCHAR, employee_states VARCHAR,
        contact_name VARCHAR, contact_phone VARCHAR, iwo_address_line_1 VARCHAR, iwo_address_line_2 VARCHAR,
        iwo_city VARCHAR, iwo_state VARCHAR, iwo_zip VARCHAR, iwo_recipient_fein VARCHAR, eiwo VARCHAR,
        debt_inquiry VARCHAR, medical_insurance VARCHAR, effective_date DATE)""",
        # The employer-services profile: each FEIN's latest registration (a D withdraws it).
        """CREATE VIEW employer_services AS SELECT * EXCLUDE (rn) FROM (
            SELECT m.*, row_number() OVER (PARTITION BY employer_fein
                ORDER BY effective_date DESC, file_id DESC, line_no DESC) AS rn FROM mser_input m) WHERE rn = 1
            AND action <> 'D'""",
    ],
]
SCHEMA_VERSION = len(MIGRATIONS)


def connect(home: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (and migrate) the store; encrypted at rest when a key is configured (pipeline/store/encryption.py)."""
    path = Path(home) / DB_NAME
    key = configured_key()
    con = open_encrypted(path, key, read_only) if key else open_plain(path, read_only)
    if not read_only:
        migrate(con)
    return con


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchone()[0]
    if not exists:
        con.execute("CREATE TABLE schema_version (version INTEGER)")
    row = con.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Bring the schema to SCHEMA_VERSION, one transaction per migration step."""
    current = schema_version(con)
    for version in range(current, SCHEMA_VERSION):
        with transaction(con):
            for ddl in MIGRATIONS[version]:
                con.execute(ddl)
            con.execute("INSERT INTO schema_version VALUES (?)", [version + 1])
    return SCHEMA_VERSION


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection):
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> int:
    """Append a polars frame through Arrow; columns matched by name, absent ones left null."""
    if frame.is_empty():
        return 0
    wanted = [c for c in table_columns(con, table) if c in frame.columns]
    arrow = frame.select(wanted).to_arrow()  # noqa: F841 - referenced by name in the SQL below
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM arrow")
    return frame.height


def stage_done(con: duckdb.DuckDBPyConnection, cycle_id: str, stage: str) -> bool:
    return (
        con.execute("SELECT count(*) FROM cycle_stages WHERE cycle_id = ? AND stage = ?", [cycle_id, stage]).fetchone()[
            0
        ]
        > 0
    )


def mark_stage(con: duckdb.DuckDBPyConnection, cycle_id: str, stage: str) -> None:
    con.execute("INSERT INTO cycle_stages VALUES (?, ?)", [cycle_id, stage])


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    """A query result as a polars frame (through Arrow)."""
    with warnings.catch_warnings():  # DB-API arrow output copies once; fine for our sizes
        warnings.simplefilter("ignore", UserWarning)
        return pl.from_arrow(con.execute(sql, params).to_arrow_table())


def dump_tables(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    """Every base table sorted by all its columns (tests compare stores with it)."""
    names = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' ORDER BY 1"
        ).fetchall()
    ]
    out = {}
    for name in names:
        df = frame(con, f"SELECT * FROM {name}")
        out[name] = df.sort(df.columns, nulls_last=True) if df.width else df
    return out
