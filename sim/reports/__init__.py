"""Reports for people who do not read CSV: the console summary, the workbook and the HTML page.

Every report opens with the budget (per benefit and year: full-year persons and gross, refund and
net DKK, the price year, the plan's budget figures beside them), then the targets with their
probabilities and error, then the tables behind them, and the charts last.

Modules, one concept each:
- `terms` and `language`: the words in Danish and English, and numbers, percentages and dates
  formatted by Babel in each locale;
- `rundata` (with `runcheck`): a run folder read back and checked (the reports' only input: no
  re-simulation); `comparedata`: a comparison folder read back (differences.csv, base/, variant/);
- `budget`: the budget table's lines; `yearly`: programmes and caseworkers by year; `units`: how
  a difference is shown; `texts`: target sentences and values by metric;
- `console`: the summaries `caseflow run` and `caseflow compare` print (from the folder they wrote);
- `charts`: fan charts and target probabilities (data picked, then drawn);
- `workbook` and `sheets`: report.xlsx; `html` with `templates/` (Jinja2, one template a page):
  report.html; `build`: writes both, with charts/*.png, in either language beside the other;
- `comparison` (page) and `comparebook` (workbook): the report of `caseflow compare`;
  `track`: a tracked forecast's path; `scores`: the report of `caseflow backtest`.

`build.write_reports(folder, lang)` is the entry point. It is imported on demand (matplotlib
takes a moment to load), so `caseflow validate` and `import sim` stay quick.
"""
