"""Tables 2–4 of a report → facts: finders for grids (`grid`) and flattened text (`flat`) hand standard rows
(`found`) to `extract`, which reads their cells (`cells`) against the standard labels (`labels`)."""
