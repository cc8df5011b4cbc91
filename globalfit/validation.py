"""``python -m globalfit.validation``: print the paper's quoted numbers recomputed (a Markdown table;
:mod:`globalfit.physics.validation`); ``python -m globalfit.validation cevns``: our SM CEvNS and reactor predictions
against the published ones (:mod:`likelihoods._cevns_validation`)."""

import sys

from globalfit.physics.validation import markdown_table, paper_rows
from likelihoods._cevns_validation import cevns_rows
from likelihoods._cevns_validation import markdown_table as cevns_table

if __name__ == "__main__":
    print(cevns_table(cevns_rows()) if sys.argv[1:] == ["cevns"] else markdown_table(paper_rows()))
