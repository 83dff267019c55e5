"""Synthetic municipalities with a known truth, for checking the forecast's bands and probabilities.

`worlds` draws and simulates them exactly (numpy and pandas only, nothing of `sim`), `scenario`
writes each one's scenario file with the parameters to fit left free.
"""
