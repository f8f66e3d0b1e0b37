"""The benchmark report's pure parts: the targets each figure is held to, and the README's
performance table, which is rendered from the report's figures and never typed by hand."""
