"""The benchmarks of the source tree (not installed with xpnet): scripts, and the comparison
harness ``benchmarks.compare``. Run them from the repository root."""
