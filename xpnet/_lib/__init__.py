"""Private helpers under every layer: atomic file writes and JSON (``fileio``), annotations that
read well in ``help()`` (``annotations``), and the module paths of earlier versions (``moved``).
Nothing here is public API."""
