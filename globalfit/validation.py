"""``python -m globalfit.validation``: print the paper's quoted numbers recomputed (a Markdown table;
:mod:`globalfit.physics.validation`)."""

from globalfit.physics.validation import markdown_table, paper_rows

if __name__ == "__main__":
    print(markdown_table(paper_rows()))
