"""Child Support Portal exchanges (`run.run_portal`): QUICK case queries, the Interstate Referral Guide,
Electronic Document Exchange, Data Reliability Audit and the states' submissions.

May import files, store, safeguards and matchers; never the cycle, enforcement or the CLI.
"""
