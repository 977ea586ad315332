"""The nightly cycle, stage by stage (`run.run_cycle` lists them): claim files from the drop zone
(`inbound`), validate and load them (`load`), FCR registrations and acks (`fcr`), SSN verification
(`ssnverify`, `ndnhverify`), NDNH matching (`ndnh`), outbound responses (`outbound`), the disclosure log
(`disclose`), archive; then the reports. `query` answers operator queries from the store.

May import files, store, safeguards, matchers, reports and the exchanges (enforcement, portal).
"""
