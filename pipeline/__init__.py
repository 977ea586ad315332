"""fpls engine. Packages by concern, from the bottom layer up (pyproject.toml's import-linter contracts
enforce the order; a package imports only those below it):

    safeguards/   SSN masking, fault-injection hooks, what an outbound record discloses
    files/        record layouts, readers, the compiled scanner, validation, error codes, writers
    store/        the DuckDB store: schema and migrations, encryption at rest, retention
    clikit.py     what every `fpls` command shares (exit codes, --home, --json), for matchers/reports/synth too
    (matchers/, reports/, synth/ sit here: person matching, reports from the store, test data)
    enforcement/  offset, passport, MSFIDM, insurance, notices, employers, misidentified participants
    portal/       Child Support Portal exchanges: QUICK, IRG, EDE, DRA, submissions
    cycle/        the nightly cycle: drop zone, load, FCR, SSN and NDNH verification, outbound, archive
    evaluation/   precision / recall of a cycle's decisions against the generator's truth
    cli/          the `fpls` typer app and its commands
"""
