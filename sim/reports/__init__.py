"""Reports for people who do not read CSV: the console summary, the workbook and the HTML page.

Modules, one concept each:
- `console`: the summaries `caseflow run` and `caseflow compare` print (from the folder they wrote);
- `language`: Danish and English words, month names and number formats;
- `rundata`: a run folder read back (the reports' only input: no re-simulation);
- `comparedata`: a comparison folder read back (differences.csv, base/ and variant/);
- `texts`: target sentences and values by metric;
- `charts`: fan charts and target probabilities (data picked, then drawn);
- `workbook`: report.xlsx; `html`: report.html; `build`: writes both, with charts/*.png;

`build.write_reports(folder, lang)` is the entry point. It is imported on demand (matplotlib
takes a moment to load), so `caseflow validate` and `import sim` stay quick.

`comparison`: the report of `caseflow compare` (report.xlsx, report.html and charts/ in the
comparison folder), from its differences.csv and the base/ and variant/ run folders. Monthly paths
are overlaid, not differenced: differences.csv holds paired differences per target and year.
"""
