"""A results folder in; tables, statistics, figures and report.md out."""
