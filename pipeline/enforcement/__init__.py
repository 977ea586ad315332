"""Enforcement exchanges run in the cycle after the outbound stage (`run.run_enforcement`): federal
offset and passport denial, MSFIDM, insurance matches, Debt Inquiry / eTermination notices, employer
services (eEmployer, MSER), e-IWO (income withholding orders routed to employers, acknowledgments back: `eiwo*`),
misidentified participants, and the debtor matching they share (`debtor_match`, `common`).

May import files, store, safeguards and matchers; never the cycle, the portal or the CLI.
"""
