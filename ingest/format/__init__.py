"""What the annual report format is, in one package: the two templates, their tables, rows and columns,
table geometry, the sum identities, and how a report's template is told (report-format.md).

Readers, table recognisers, checks, chunking, `qa` and the test report generator ask this package;
nothing else spells a template, a table width or an identity.
"""
