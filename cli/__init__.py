"""genval's command line, installed as ``genval.cli`` (console script ``genval``)."""
