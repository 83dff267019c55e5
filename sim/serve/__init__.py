"""The what-if page: `caseflow serve` puts a scenario's levers in a browser and answers with each
target's probability and the total's fan, from small batches on the base run's random numbers.

`desk` holds the scenarios, their prepared what-ifs and each page's current question (no web
code); `export` writes a variant as an overlay file and runs its full report; `page` is the
Dash app on top; `figures` draws the fan chart.
"""
