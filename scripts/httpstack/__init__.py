"""The two HTTP servers scripts/bench_http_stack.py compares, each run as its own process."""
