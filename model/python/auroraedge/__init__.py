"""AuroraEdge-V reference model, model directory writer and reader
(model/FORMAT.md). Run scripts with /usr/bin/python3 (Debian's python3-torch)."""
