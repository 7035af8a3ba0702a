"""One module per verb; each takes typed arguments and a Context, never argparse."""
