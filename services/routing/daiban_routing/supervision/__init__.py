"""Electronic supervision: flags as of any moment, and the sweep that announces them."""
