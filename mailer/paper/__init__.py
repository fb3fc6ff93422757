"""Pages to print: the guide on paper and the year's report for the general meeting."""
