"""Per-model pipelines of the application: event files in; train, export, C-sim check, evaluate; a run directory
out."""
