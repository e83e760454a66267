"""The management service's core: its use cases, rules, plan gates and SQL. It imports no
web framework; the API families, the statistics pages and the command line call it."""
