"""Reports for people who do not read CSV: the console summary, the workbook and the HTML page.

Modules, one concept each:
- `console`: the summary `caseflow run` prints (from the in-memory result);
- `language`: Danish and English words, month names and number formats;
- `rundata`: a run folder read back (the reports' only input: no re-simulation);
- `texts`: target sentences and values by metric;
- `charts`: fan charts and target probabilities (data picked, then drawn);
- `workbook`: report.xlsx; `html`: report.html; `build`: writes both, with charts/*.png.

`build.write_reports(folder, lang)` is the entry point. It is imported on demand (matplotlib
takes a moment to load), so `caseflow validate` and `import sim` stay quick.

A comparison report (`caseflow compare`, not built yet) can reuse these pieces: load both run
folders with `rundata.load_run`, draw two `FanSeries` (or their difference) with the same chart
functions, and add sheets with `workbook.write_table` and sections with `html.table`/`page`.
What it needs beyond them is data the run folders do not hold today: paired differences per
replication (common random numbers) for monthly values and costs, as replications.csv holds
only yearly full-year persons, and a `differences.csv` (month/year, state, mean, p05…p95 of
B − A, and P(B better than A) per target) written by the compare verb for the reports to read.
"""
