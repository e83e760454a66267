"""Link groups: shared settings for many links, one edge record per group."""
